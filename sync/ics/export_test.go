package ics

// EventFromTenantForTest exposes the test conversion to the external test
// package (ics_test).
var EventFromTenantForTest = eventFromTenant
