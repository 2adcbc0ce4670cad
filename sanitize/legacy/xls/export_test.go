package xls

import "testing"

// BuildXLS is a compound file holding stream as its Workbook, for the
// tests of package xls_test.
func BuildXLS(t testing.TB, stream []byte) []byte { return xlsFile(t, stream) }
