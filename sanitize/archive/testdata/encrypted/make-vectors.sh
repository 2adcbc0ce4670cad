#!/bin/sh
# make-vectors.sh writes the encrypted ZIP test vectors of this folder with
# the tools PPAP senders use: Info-ZIP's `zip -P` (PKWARE traditional
# encryption, "ZipCrypto") and 7-Zip (`7z -tzip -mem=AES…`, WinZip AES).
# The tests read the committed .zip files; run this only to make them anew
# (Debian: apt-get install -y zip p7zip-full). Salts and encryption headers
# are random, so every run writes different bytes with the same contents.
#
# Every archive's password is "ppap-Test#2026". The members:
#   hello.txt          Japanese and English text (UTF-8), compresses well
#   報告書.txt          a Japanese name: raw CP932 bytes from zip (no UTF-8
#                      flag, as Japanese Windows writes it), UTF-8 from 7z
#   inner.zip          a plain ZIP holding inner.txt (a nested archive)
# hostile-aes256.zip holds setup.exe (a minimal PE), locked.zip (an
# encrypted ZIP) and note.txt.
set -eu
export LC_ALL=C TZ=UTC
PW='ppap-Test#2026'
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

mkdir src cp932 hostile
printf 'こんにちは。パスワード付き ZIP の試験です。\nHello. This is a password-protected ZIP test.\n' > src/hello.txt
for i in 1 2 3 4 5 6 7 8; do
	printf '第%s章 令和八年度 予算執行状況の報告 / Chapter %s: budget report, fiscal 2026\n' "$i" "$i"
done > src/報告書.txt
printf 'inner text: 入れ子の ZIP の中身です。\n' > inner.txt
zip -q -X src/inner.zip inner.txt
cp src/hello.txt src/inner.zip cp932/
# The same Japanese name in CP932 bytes (報告書 = 95 F1 8D 90 8F 91).
cp src/報告書.txt "cp932/$(printf '\225\361\215\220\217\221.txt')"
touch -d '2026-11-30 09:15:42' src/* cp932/*

# A minimal PE: "MZ", e_lfanew at 0x3C pointing to "PE\0\0" at 0x40.
{ printf 'MZ'; head -c 58 /dev/zero; printf '\100\000\000\000PE\000\000'; head -c 64 /dev/zero; } > hostile/setup.exe
printf 'secret\n' > secret.txt
zip -q -X -P "$PW" hostile/locked.zip secret.txt
printf 'この ZIP には実行ファイルと暗号化 ZIP が入っています。\n' > hostile/note.txt
touch -d '2026-11-30 09:15:42' hostile/*

rm -f "$out"/*.zip

# ZipCrypto (zip -P): deflated; stored (-0); streamed to a pipe, so every
# member has a data descriptor (flag bit 3: the check byte is the high
# byte of the DOS time); CP932 names.
(cd src && zip -q -X -P "$PW" "$out/zipcrypto-deflate.zip" hello.txt 報告書.txt inner.zip)
(cd src && zip -q -X -0 -P "$PW" "$out/zipcrypto-stored.zip" hello.txt 報告書.txt inner.zip)
(cd src && zip -q -X -P "$PW" - hello.txt 報告書.txt inner.zip | cat > "$out/zipcrypto-stream.zip")
(cd cp932 && zip -q -X -P "$PW" "$out/zipcrypto-cp932.zip" hello.txt "$(printf '\225\361\215\220\217\221.txt')" inner.zip)
# A mixed archive: hello.txt in the clear, 報告書.txt encrypted.
(cd src && zip -q -X "$out/zipcrypto-mixed.zip" hello.txt && zip -q -X -P "$PW" "$out/zipcrypto-mixed.zip" 報告書.txt)
# 7-Zip's own ZipCrypto.
(cd src && 7z a -bd -bso0 -tzip -p"$PW" -mem=ZipCrypto "$out/7z-zipcrypto.zip" hello.txt 報告書.txt inner.zip)

# WinZip AES (7-Zip): AES-128, -192, -256 deflated; AES-256 stored (-mx0).
for bits in 128 192 256; do
	(cd src && 7z a -bd -bso0 -tzip -p"$PW" -mem=AES$bits "$out/aes$bits.zip" hello.txt 報告書.txt inner.zip)
done
(cd src && 7z a -bd -bso0 -tzip -p"$PW" -mem=AES256 -mx0 "$out/aes256-stored.zip" hello.txt 報告書.txt inner.zip)
(cd hostile && 7z a -bd -bso0 -tzip -p"$PW" -mem=AES256 "$out/hostile-aes256.zip" setup.exe locked.zip note.txt)

# The plain members, to compare with what is decrypted.
rm -rf "$out/plain" && mkdir "$out/plain"
cp src/* hostile/* "$out/plain/"
ls -l "$out"
