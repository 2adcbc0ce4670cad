#!/bin/sh
# Regenerates sample.doc and sample.ppt from the flat ODF sources beside
# them with LibreOffice (Debian: libreoffice-writer-nogui,
# libreoffice-impress-nogui). The tests read the committed outputs; run
# this only to change them, and check the tests' expectations after.
set -eu
cd "$(dirname "$0")"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
soffice --headless -env:UserInstallation="file://$profile" --convert-to doc sample.fodt
soffice --headless -env:UserInstallation="file://$profile" --convert-to ppt sample.fodp
