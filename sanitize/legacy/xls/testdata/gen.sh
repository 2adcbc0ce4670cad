#!/bin/sh
# Regenerates the LibreOffice-written workbooks of this folder from the
# flat ODF spreadsheet below (run from anywhere; needs Debian's
# libreoffice-calc-nogui). The .xls files are committed, so the tests do
# not need LibreOffice; run this only to change them.
#   city.xls     Excel 97-2003 (BIFF8): Japanese text, dates, numbers,
#                percentages, formulas (number, string, bool, error, DDE),
#                a long string past one record, a hidden sheet.
# (LibreOffice 7 no longer writes Excel 95: BIFF5 is tested with workbooks
# the tests build.)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
long=$(python3 -c 'print("長い文章" * 1500)')
cat > "$work/city.fods" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:automatic-styles>
  <number:date-style style:name="N1"><number:year number:style="long"/><number:text>/</number:text><number:month/><number:text>/</number:text><number:day/></number:date-style>
  <number:date-style style:name="N2"><number:year number:style="long"/><number:text>年</number:text><number:month/><number:text>月</number:text><number:day/><number:text>日</number:text></number:date-style>
  <number:date-style style:name="N3" number:language="ja" number:country="JP"><number:era number:style="long" number:calendar="gengou"/><number:year number:calendar="gengou"/><number:text>年</number:text><number:month/><number:text>月</number:text><number:day/><number:text>日</number:text></number:date-style>
  <number:percentage-style style:name="N4"><number:number number:decimal-places="1" number:min-integer-digits="1"/><number:text>%</number:text></number:percentage-style>
  <number:number-style style:name="N5"><number:number number:decimal-places="0" number:min-integer-digits="1" number:grouping="true"/><number:text>円</number:text></number:number-style>
  <number:time-style style:name="N6"><number:hours/><number:text>:</number:text><number:minutes number:style="long"/></number:time-style>
  <style:style style:name="ce1" style:family="table-cell" style:data-style-name="N1"/>
  <style:style style:name="ce2" style:family="table-cell" style:data-style-name="N2"/>
  <style:style style:name="ce3" style:family="table-cell" style:data-style-name="N3"/>
  <style:style style:name="ce4" style:family="table-cell" style:data-style-name="N4"/>
  <style:style style:name="ce5" style:family="table-cell" style:data-style-name="N5"/>
  <style:style style:name="ce6" style:family="table-cell" style:data-style-name="N6"/>
  <style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style>
  <style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style>
 </office:automatic-styles>
 <office:body><office:spreadsheet>
  <table:table table:name="名簿" table:style-name="ta1">
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>氏名</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>生年月日</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>受付日</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>和暦</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>手数料</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>割合</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>時刻</text:p></table:table-cell>
   </table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>山田 太郎</text:p></table:table-cell>
    <table:table-cell table:style-name="ce1" office:value-type="date" office:date-value="1985-04-01"><text:p>1985/4/1</text:p></table:table-cell>
    <table:table-cell table:style-name="ce2" office:value-type="date" office:date-value="2026-11-30"><text:p>2026年11月30日</text:p></table:table-cell>
    <table:table-cell table:style-name="ce3" office:value-type="date" office:date-value="2026-11-30"><text:p>令和8年11月30日</text:p></table:table-cell>
    <table:table-cell table:style-name="ce5" office:value-type="float" office:value="1500"><text:p>1,500円</text:p></table:table-cell>
    <table:table-cell table:style-name="ce4" office:value-type="percentage" office:value="0.125"><text:p>12.5%</text:p></table:table-cell>
    <table:table-cell table:style-name="ce6" office:value-type="time" office:time-value="PT09H30M00S"><text:p>9:30</text:p></table:table-cell>
   </table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>佐藤 花子</text:p></table:table-cell>
    <table:table-cell table:style-name="ce1" office:value-type="date" office:date-value="1990-12-24"><text:p>1990/12/24</text:p></table:table-cell>
    <table:table-cell table:style-name="ce2" office:value-type="date" office:date-value="2026-12-01"><text:p>2026年12月1日</text:p></table:table-cell>
    <table:table-cell table:style-name="ce3" office:value-type="date" office:date-value="2019-05-01"><text:p>令和1年5月1日</text:p></table:table-cell>
    <table:table-cell table:style-name="ce5" office:value-type="float" office:value="300"><text:p>300円</text:p></table:table-cell>
    <table:table-cell table:style-name="ce4" office:value-type="percentage" office:value="0.5"><text:p>50.0%</text:p></table:table-cell>
    <table:table-cell table:style-name="ce6" office:value-type="time" office:time-value="PT17H05M00S"><text:p>17:05</text:p></table:table-cell>
   </table:table-row>
  </table:table>
  <table:table table:name="集計" table:style-name="ta1">
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>合計</text:p></table:table-cell>
    <table:table-cell table:formula="of:=SUM(['名簿'.E2:.E3])" office:value-type="float" office:value="1800"><text:p>1800</text:p></table:table-cell>
    <table:table-cell table:formula="of:=['名簿'.A2]&amp;&quot;様&quot;" office:value-type="string" office:string-value="山田 太郎様"><text:p>山田 太郎様</text:p></table:table-cell>
    <table:table-cell table:formula="of:=[.B1]&gt;1000" office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell>
    <table:table-cell table:formula="of:=1/0" office:value-type="float" office:value="0"><text:p>#DIV/0!</text:p></table:table-cell>
    <table:table-cell table:formula="of:=DDE(&quot;cmd&quot;;&quot;/c calc&quot;;&quot;A0&quot;)" office:value-type="string" office:string-value="DDE cached"><text:p>DDE cached</text:p></table:table-cell>
   </table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="float" office:value="3.14159"><text:p>3.14159</text:p></table:table-cell>
    <table:table-cell office:value-type="float" office:value="-42"><text:p>-42</text:p></table:table-cell>
    <table:table-cell office:value-type="float" office:value="1234567.5"><text:p>1234567.5</text:p></table:table-cell>
    <table:table-cell office:value-type="string"><text:p>=cmd|' /C calc'!A0</text:p></table:table-cell>
   </table:table-row>
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>$long</text:p></table:table-cell>
   </table:table-row>
  </table:table>
  <table:table table:name="非表示" table:style-name="ta2">
   <table:table-row>
    <table:table-cell office:value-type="string"><text:p>隠れた値</text:p></table:table-cell>
   </table:table-row>
  </table:table>
 </office:spreadsheet></office:body>
</office:document>
EOF
# Recalculate on load, so that formulas' cached results are LibreOffice's.
mkdir -p "$work/profile/user"
cat > "$work/profile/user/registrymodifications.xcu" <<'XCU'
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
XCU
profile="file://$work/profile"
soffice -env:UserInstallation="$profile" --headless --convert-to 'xls:MS Excel 97' --outdir "$work/97" "$work/city.fods" >/dev/null
cp "$work/97/city.xls" "$here/city.xls"
