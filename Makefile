# mugai: make run starts the gateway on its embedded defaults; make test
# runs every check CI runs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 30s
SHARED  ?= ../shared

.PHONY: all build run test fmt-check vet unit fuzz corpus clean

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
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

# Each fuzz target runs for FUZZTIME; crashers land in testdata/fuzz/ and
# must be committed as regression seeds.
fuzz:
	$(GO) test -run XXX -fuzz FuzzRebuild -fuzztime $(FUZZTIME) ./sanitize
	$(GO) test -run XXX -fuzz FuzzStrictReader -fuzztime $(FUZZTIME) ./gateway
	$(GO) test -run XXX -fuzz FuzzPolicyParse -fuzztime $(FUZZTIME) ./policy

# Robustness run over the shared real-world corpus, when it is present.
corpus: build
	@if [ ! -d "$(SHARED)/corpus/email" ]; then echo "no $(SHARED)/corpus/email: skipping"; exit 0; fi; \
	n=0; fail=0; bad=0; \
	for f in $$(find $(SHARED)/corpus/email -type f | sort); do \
		n=$$((n+1)); \
		if ! ./bin/mugai sanitize "$$f" > /tmp/mugai-corpus.out 2>/tmp/mugai-corpus.err; then \
			fail=$$((fail+1)); echo "FAIL $$f: $$(head -c 200 /tmp/mugai-corpus.err)"; \
		elif ! grep -q '^Content-Type: text/plain; charset=UTF-8' /tmp/mugai-corpus.out; then \
			bad=$$((bad+1)); echo "NOT TEXT $$f"; \
		fi; \
	done; \
	echo "corpus: $$n messages, $$fail failures to produce output, $$bad outputs not a single text part"; \
	[ $$fail -eq 0 ] && [ $$bad -eq 0 ]

clean:
	rm -rf bin
