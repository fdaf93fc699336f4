package autodiscover_test

import (
	"context"
	"fmt"

	"github.com/exocal/exocal/sync/auth"
	"github.com/exocal/exocal/sync/autodiscover"
)

// How the engine wires token, host policy and autodiscover together.
func Example() {
	ctx := context.Background()
	ts := auth.NewTokenSource(ctx, auth.Config{
		TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", ClientID: "6731de76-14a6-49ae-97bc-6eba6914391e",
		ClientSecret: "value from the keyring",
	})
	autodiscoverURL := "" // the seed's "Autodiscover URL": empty means the cloud's default
	allowed := auth.AllowHosts(ts.Cloud(), autodiscoverURL)
	cache := autodiscover.NewCache(0, nil)
	res, err := cache.Discover(ctx, autodiscover.Request{
		User: "alice@contoso.com", AutodiscoverURL: autodiscoverURL, Server: autodiscover.ServerExternal,
		Cloud: ts.Cloud(), HTTPClient: auth.NewClient(nil, ts, allowed), AllowedHost: allowed,
	})
	if err != nil {
		fmt.Println("autodiscover failed:", err)
		return
	}
	fmt.Println(res.Method, res.EWSURL)
}
