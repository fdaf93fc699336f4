package ews

import (
	"bytes"
	"encoding/xml"
	"unicode/utf8"
)

// buildGetItem writes the envelope and GetItem request exactly as
// buildRequestXML would (same element order, escaping and empty-element
// form), without reflection.
func (c *Client) buildGetItem(mailbox string, r *getItemRequest) []byte {
	var b bytes.Buffer
	b.Grow(1024 + 100*len(r.ItemIDs.ItemID))
	b.WriteString(xml.Header)
	b.WriteString(`<soap:Envelope xmlns:soap="` + nsSOAP + `" xmlns:t="` + nsTypes + `" xmlns:m="` + nsMessages +
		`"><soap:Header><t:RequestServerVersion Version="`)
	escapeTo(&b, c.version)
	b.WriteString(`"></t:RequestServerVersion>`)
	if mailbox != "" {
		b.WriteString(`<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>`)
		escapeTo(&b, mailbox)
		b.WriteString(`</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`)
	}
	b.WriteString(`</soap:Header><soap:Body><m:GetItem><m:ItemShape><t:BaseShape>`)
	sh := &r.ItemShape
	escapeTo(&b, sh.BaseShape)
	b.WriteString(`</t:BaseShape>`)
	if sh.BodyType != "" {
		b.WriteString(`<t:BodyType>`)
		escapeTo(&b, sh.BodyType)
		b.WriteString(`</t:BodyType>`)
	}
	if sh.AdditionalProperties != nil {
		b.WriteString(`<t:AdditionalProperties>`)
		for _, f := range sh.AdditionalProperties.FieldURI {
			b.WriteString(`<t:FieldURI FieldURI="`)
			escapeTo(&b, f.FieldURI)
			b.WriteString(`"></t:FieldURI>`)
		}
		b.WriteString(`</t:AdditionalProperties>`)
	}
	b.WriteString(`</m:ItemShape><m:ItemIds>`)
	for _, id := range r.ItemIDs.ItemID {
		b.WriteString(`<t:ItemId Id="`)
		escapeTo(&b, id.ID)
		if id.ChangeKey != "" {
			b.WriteString(`" ChangeKey="`)
			escapeTo(&b, id.ChangeKey)
		}
		b.WriteString(`"></t:ItemId>`)
	}
	b.WriteString(`</m:ItemIds></m:GetItem></soap:Body></soap:Envelope>`)
	return b.Bytes()
}

// escapeTo writes s escaped as encoding/xml's Encoder escapes text and
// attribute values.
func escapeTo(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\'' || c == '&' || c == '<' || c == '>' {
			xml.EscapeText(b, []byte(s)) // never fails on a bytes.Buffer
			return
		}
	}
	b.WriteString(s)
}
