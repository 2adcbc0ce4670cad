package xls

import "testing"

func TestFormatNumber(t *testing.T) {
	const nov30 = 46356 // 2026-11-30, a Monday
	tests := []struct {
		code string
		v    float64
		want string
	}{
		// General
		{"", 1234567, "1234567"},
		{"General", 0.1 + 0.2, "0.3"},
		{"", 1.0 / 3, "0.333333333333333"},
		{"", 1e20, "1E+20"},
		{"", -2.5e-12, "-2.5E-12"},
		{"", 123456789012345678, "1.23456789012346E+17"},
		// built-in number formats
		{builtinFormats[1], 2.5, "3"},
		{builtinFormats[2], 2.675, "2.68"},
		{builtinFormats[3], 1234567.4, "1,234,567"},
		{builtinFormats[4], -1234.5, "-1,234.50"},
		{builtinFormats[9], 0.125, "13%"},
		{builtinFormats[10], 0.12345, "12.35%"},
		{builtinFormats[11], 12345.678, "1.23E+04"},
		{builtinFormats[12], 1.5, "1.5"}, // fractions: the plain number
		{builtinFormats[5], 1500, "¥1,500"},
		{builtinFormats[5], -1500, "¥-1,500"},
		{builtinFormats[37], -42, "(42)"},
		{builtinFormats[49], 7, "7"},
		// custom number formats
		{`#,##0"円"`, 15000, "15,000円"},
		{`[$¥-411]#,##0`, 980, "¥980"},
		{`0.0#`, 3, "3.0"},
		{`0.0#`, 3.14159, "3.14"},
		{`#.##`, 0.5, ".5"},
		{`000`, 7, "007"},
		{`#,##0,"千円"`, 1234567, "1,235千円"},
		{`0.00;[Red]-0.00;"ゼロ"`, 0, "ゼロ"},
		{`0.00;[Red]\-0.00`, -3, "-3.00"},
		{`"合計 "General`, 12.5, "合計 12.5"},
		{`@`, 12, "12"},
		{`0_);\(0\)`, -5, "(5)"},
		// built-in dates and times (Japanese forms)
		{builtinFormats[14], nov30, "2026/11/30"},
		{builtinFormats[22], nov30 + 0.5 + 1.0/1440, "2026/11/30 12:01"},
		{builtinFormats[15], nov30, "30-Nov-26"},
		{builtinFormats[17], nov30, "Nov-26"},
		{builtinFormats[18], 0.75, "6:00 PM"},
		{builtinFormats[19], 0.25 + 1.0/86400, "6:00:01 AM"},
		{builtinFormats[20], 0.999999, "0:00"}, // rounds to midnight of the next day
		{builtinFormats[21], 1.0 / 3, "8:00:00"},
		{builtinFormats[45], 0.5 / 24, "30:00"},
		{builtinFormats[46], 1.5, "36:00:00"},
		{builtinFormats[47], 1.25 / 86400, "00:01.3"},
		{builtinFormats[27], nov30, "R8.11.30"},
		{builtinFormats[28], nov30, "令和8年11月30日"},
		{builtinFormats[28], 32516, "平成1年1月8日"},
		{builtinFormats[28], 32515, "昭和64年1月7日"},
		{builtinFormats[30], nov30, "11/30/26"},
		{builtinFormats[31], nov30, "2026年11月30日"},
		{builtinFormats[32], 0.5 + 5.0/1440, "12時05分"},
		{builtinFormats[33], 0.5 + 5.0/1440 + 7.0/86400, "12時05分07秒"},
		{builtinFormats[34], nov30, "2026年11月"},
		{builtinFormats[35], nov30, "11月30日"},
		{builtinFormats[57], 43586, "R1.5.1"},
		{builtinFormats[58], 43585, "平成31年4月30日"},
		// custom dates
		{`yyyy/mm/dd (aaa)`, nov30, "2026/11/30 (月)"},
		{`m月d日(aaaa)`, nov30, "11月30日(月曜日)"},
		{`dddd, mmmm d, yyyy`, nov30, "Monday, November 30, 2026"},
		{`[$-411]ggge"年"m"月"d"日"`, nov30, "令和8年11月30日"},
		{`gge.m.d`, nov30, "令8.11.30"},
		{`[$-F800]dddd, mmmm dd, yyyy`, nov30, "2026年11月30日"},
		{`yy.mm.dd hh:mm:ss`, nov30 + 0.75, "26.11.30 18:00:00"},
		{`h:mm AM/PM`, 0, "12:00 AM"},
		{`h:mm am/pm`, 0.5, "12:00 pm"},
		{`hh:mm a/p`, 13.0 / 24, "01:00 p"},
		{`[mm]:ss`, 1.0 / 24, "60:00"},
		{`[ss]`, 1.0 / 1440, "60"},
		{`mmmmm`, nov30, "N"},
		{`yyyy-mm-dd`, 1, "1900-01-01"},
		{`yyyy-mm-dd`, 60, "1900-02-29"},
		{`yyyy-mm-dd`, 61, "1900-03-01"},
		{`yyyy/m/d`, -1, "-1"},              // no date before 1900: the number
		{`yyyy/m/d`, 3e6, "3000000"},        // nor after 9999
		{`yyyy/m/d;@`, nov30, "2026/11/30"}, // LibreOffice's text section
	}
	for _, tc := range tests {
		if got := formatNumber(tc.code, tc.v, false); got != tc.want {
			t.Errorf("%q %v: %q, want %q", tc.code, tc.v, got, tc.want)
		}
	}
}

func TestFixed(t *testing.T) {
	tests := []struct {
		v    float64
		dec  int
		want string
	}{
		{0, 0, "0"}, {0, 2, "0.00"}, {0.5, 0, "1"}, {1.5, 0, "2"}, {2.5, 0, "3"},
		{0.005, 2, "0.01"}, {1.005, 2, "1.01"}, {9.995, 2, "10.00"}, {999.5, 0, "1000"},
		{0.000123, 5, "0.00012"}, {1e-20, 2, "0.00"}, {123456789.125, 2, "123456789.13"},
		{1e300, 0, "1" + string(make([]byte, 0)) + zeros(300)},
	}
	for _, tc := range tests {
		if got := fixed(tc.v, tc.dec); got != tc.want {
			t.Errorf("fixed(%v, %d) = %q, want %q", tc.v, tc.dec, got, tc.want)
		}
	}
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func TestRK(t *testing.T) {
	tests := []struct {
		rk   uint32
		want float64
	}{
		{rkInt(0, false), 0},
		{rkInt(536870911, false), 536870911},
		{rkInt(-536870912, false), -536870912},
		{rkInt(-1, true), -0.01},
		{rkFloat(1, false), 1},
		{rkFloat(-0.5, false), -0.5},
		{rkFloat(1234.5, true), 12.345},
	}
	for _, tc := range tests {
		if got := rkValue(tc.rk); got != tc.want {
			t.Errorf("rk %#08x = %v, want %v", tc.rk, got, tc.want)
		}
	}
}
