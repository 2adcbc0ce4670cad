# mugai: make run starts the gateway on its embedded defaults; make test
# runs every check CI runs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 30s
SHARED  ?= ../shared

.PHONY: all build run test fmt-check vet unit fuzz corpus differential bench interop browser office perf clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/mugai ./cmd/mugai

run: build
	./bin/mugai serve

test: fmt-check vet unit

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet -tags "corpus interop perf" ./...

unit:
	$(GO) test -race -count=1 ./...

# Benchmarks in the standard format (compare runs with benchstat).
bench:
	$(GO) test -run XXX -bench . -benchmem -count 3 ./sanitize/... ./policy/report ./gateway ./gateway/delivery ./portal/auth

# Interoperability with Postfix (needs root; installs Debian's postfix and
# swaks when missing): swaks -> private Postfix -> mugai -> private Postfix
# -> Maildir on 127.0.0.1, checking the delivered messages, the Received
# chain, retries after a 4xx and after the LGWAN side was down, a bounce
# whose DSN leaves through the first Postfix; and contrib/ checked with
# systemd-analyze, postconf and postmap.
interop: build
	./.ci/install-interop-tools
	$(GO) test -tags interop -count=1 -v -run 'TestInterop|TestDeploymentKit' ./gateway/interop -args -mugai $(CURDIR)/bin/mugai

# The portal in a real browser (installs Debian's chromium and Japanese
# fonts when missing): the browser tests, which make test skips on a
# machine without chromium, here required; screenshots of every page land
# in var/screenshots.
browser:
	./.ci/install-browser-tools
	MUGAI_BROWSER=required MUGAI_SCREENSHOTS=$(CURDIR)/var/screenshots $(GO) test -count=1 -v -run 'TestBrowser' ./portal/... ./gateway

# Office documents flattened through LibreOffice in its sandbox (installs
# Debian's LibreOffice without GUI, bubblewrap and Japanese fonts when
# missing): the sanitize/officepdf tests, which make test skips on a
# machine without them, here required: the sandbox's isolation, the
# hostile document set (macros, external links, DDE, OLE) and the control
# run that shows it is hostile.
office:
	./.ci/install-office-tools
	MUGAI_OFFICE=required $(GO) test -count=1 -v -timeout 30m ./sanitize/officepdf

# The comparison with Postfix (needs root, installs like interop): the
# reference message through smtp-source -> X -> smtp-sink, where X is
# nothing, a plain Postfix relay, mugai (strict policy), mugai (default
# policy); 1 and 20 sessions, medians of 3 runs. A few minutes.
perf: build
	./.ci/install-interop-tools
	$(GO) test -tags perf -count=1 -v -timeout 60m -run 'TestPerf|TestPhases' ./gateway/interop -args -mugai $(CURDIR)/bin/mugai

# Each fuzz target (all of them: .ci/fuzz lists them with go test -list)
# runs for FUZZTIME; crashers land in testdata/fuzz/ and must be
# committed as regression seeds.
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./.ci/fuzz

# Robustness run over the shared real-world corpus, when it is present:
# every message through the sanitize command; prints messages, failures to
# produce output, outputs with U+FFFD, outputs that do not re-parse.
corpus:
	@if [ ! -d "$(SHARED)/corpus/email" ]; then echo "no $(SHARED)/corpus/email: nothing to run"; exit 0; fi; \
	MUGAI_CORPUS=$$(cd $(SHARED)/corpus/email && pwd) MUGAI_CORPUS_FILES=$$(cd $(SHARED)/corpus && pwd) \
		$(GO) test -tags corpus -count=1 -run '^TestCorpus(Files)?$$' -v ./cmd/mugai | grep -E '^\s+corpus_(files_)?test.go|^(ok|FAIL|---)'

# Differential run against an earlier commit (BASE=<commit>): the shared
# corpus, its files wrapped as attachments and sanitize/testdata, through
# both builds' sanitize command; rebuilt messages and decisions must be
# byte-identical but for Date, Message-ID and boundaries.
differential:
	@if [ -z "$(BASE)" ]; then echo "usage: make differential BASE=<commit>"; exit 2; fi
	@if [ ! -d "$(SHARED)/corpus/email" ]; then echo "no $(SHARED)/corpus/email: nothing to run"; exit 0; fi; \
	d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && mkdir "$$d/src" && \
	git archive "$(BASE)" | tar -x -C "$$d/src" && (cd "$$d/src" && $(GO) build -o "$$d/mugai" ./cmd/mugai) && \
	MUGAI_DIFF_BASE="$$d/mugai" MUGAI_CORPUS_FILES=$$(cd $(SHARED)/corpus && pwd) \
		$(GO) test -tags corpus -count=1 -timeout 60m -run 'TestCorpusDifferential' -v ./cmd/mugai | grep -E '^\s+differential_test.go|^(ok|FAIL|---)|^(base|now):|^[^ ]'

clean:
	rm -rf bin
