# zkube — one non-recursive GNU Makefile.
#
#   make            build bin/zkube and bin/zkubectl
#   make deps       install the Debian packages zkube needs (only those missing)
#   make test       deps + build + unit, e2e and short fuzz runs; ends "N passed, N failed"
#   make up         deps + build + start a local cluster with the examples
#   make bench      deps + build + benchmarks beside their peers
#   make fuzz       build the libFuzzer targets (clang)
#   SAN=asan|tsan   sanitizer builds, in their own build folder
#
# Sources are found by wildcard: a new .c file in a module folder joins its
# library; a new tests/unit/test_*.c becomes a test binary.

PKGS     := libzmq libczmq msgpack lmdb yaml-0.1 jansson libmicrohttpd openssl zlib
CC       ?= cc
CSTD     := -std=c17 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Werror
OPT      ?= -O2 -g
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SAN),asan)
  BUILD  := build-asan
  SANF   := -fsanitize=address,undefined -fno-omit-frame-pointer
else ifeq ($(SAN),tsan)
  BUILD  := build-tsan
  SANF   := -fsanitize=thread
else
  BUILD  := build
  SANF   :=
endif

# The actors (bin/zkube) allocate with jemalloc: object trees make many small
# allocations and glibc's malloc was a quarter of every actor's CPU. Its
# settings are in tools/zkube/malloc_conf.c. Sanitizer builds keep the libc
# allocator (the sanitizers replace it).
ifeq ($(SANF),)
  MALLOC_LIBS := $(shell pkg-config --libs jemalloc 2>/dev/null)
endif

CFLAGS   := $(CSTD) $(WARN) $(OPT) $(SANF) -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS  := $(SANF)
LDLIBS   := $(PKG_LIBS) -lpthread -lm

BIN      := bin
PROTO_SRC  := $(wildcard protocol/*.c)
STORE_SRC  := $(wildcard store/*.c)
RT_SRC     := $(wildcard runtime/*.c)
BROKER_SRC := $(wildcard broker/*.c)
ACTOR_SRC  := $(filter-out %/main.c,$(wildcard actors/*/*.c))
ACTORMAIN_SRC := $(wildcard actors/*/main.c)
ZKUBE_SRC  := $(wildcard tools/zkube/*.c) $(wildcard tools/tap/*.c) $(wildcard tools/chaos/*.c)
CTL_SRC    := $(wildcard tools/zkubectl/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC  := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIB_PROTO  := $(BUILD)/libzkproto.a
LIB_STORE  := $(BUILD)/libzkstore.a
LIB_RT     := $(BUILD)/libzkrt.a
LIB_BROKER := $(BUILD)/libzkbroker.a
LIB_ACTORS := $(BUILD)/libzkactors.a
# link order: dependents first
ALL_LIBS   := $(LIB_ACTORS) $(LIB_BROKER) $(LIB_STORE) $(LIB_RT) $(LIB_PROTO)

ifeq ($(BUILD),build)
  ZKUBE    := $(BIN)/zkube
  ZKUBECTL := $(BIN)/zkubectl
else
  ZKUBE    := $(BUILD)/bin/zkube
  ZKUBECTL := $(BUILD)/bin/zkubectl
endif
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps test up down bench fuzz clean format unit
all: $(ZKUBE) $(ZKUBECTL)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

define mklib
$(1): $(call obj,$(2))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	ar rcs $$@ $$^ $(if $(2),,$$(BUILD)/empty.o)
endef
$(BUILD)/empty.o:
	@mkdir -p $(BUILD)
	echo 'int zkube_empty_unit;' | $(CC) -x c -c - -o $@
$(eval $(call mklib,$(LIB_PROTO),$(PROTO_SRC)))
$(eval $(call mklib,$(LIB_STORE),$(STORE_SRC)))
$(eval $(call mklib,$(LIB_RT),$(RT_SRC)))
$(eval $(call mklib,$(LIB_BROKER),$(BROKER_SRC)))
$(eval $(call mklib,$(LIB_ACTORS),$(ACTOR_SRC) $(ACTORMAIN_SRC)))
$(LIB_PROTO) $(LIB_STORE) $(LIB_RT) $(LIB_BROKER) $(LIB_ACTORS): | $(BUILD)/empty.o

$(ZKUBE): $(call obj,$(ZKUBE_SRC)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(ZKUBE_SRC)) $(ALL_LIBS) $(LDLIBS) $(MALLOC_LIBS)

$(ZKUBECTL): $(call obj,$(CTL_SRC)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(CTL_SRC)) $(ALL_LIBS) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ALL_LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(ALL_LIBS) $(LDLIBS) $(shell pkg-config --libs libcurl 2>/dev/null)

unit: $(UNIT_BINS)

# ---- fuzzing (clang + libFuzzer), own build folder
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := $(CSTD) -O1 -g -I. $(PKG_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP
FUZZ_PROTO_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(PROTO_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRC))
$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_PROTO_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_PROTO_OBJ) $(PKG_LIBS) -lm -o $@
fuzz: $(FUZZ_BINS)
.SECONDARY: $(FUZZ_PROTO_OBJ)

# ---- images (owned by the images engineer)
# `make images`: the book's image programs, static (no libraries in an
# image), then every recipe of deploy/images/ into the image store with
# `zkube image build` — busybox first, the others start from it. A recipe
# whose inputs did not change is a no-op. Programs go to build/images/bin
# whatever SAN is: the recipes name that path.
IMAGE_BIN  := build/images/bin
IMAGE_PROGS := kubia kubia-unhealthy batch-job ssd-monitor
IMAGE_BINS := $(addprefix $(IMAGE_BIN)/,$(IMAGE_PROGS))
IMAGE_DIRS := deploy/images/busybox \
	$(filter-out deploy/images/busybox,$(patsubst %/Recipe,%,$(wildcard deploy/images/*/Recipe)))
IMAGE_CFLAGS := $(CSTD) $(WARN) -static -O2
$(IMAGE_BIN)/kubia-unhealthy: deploy/images/src/kubia.c
	@mkdir -p $(dir $@)
	$(CC) $(IMAGE_CFLAGS) -DKUBIA_UNHEALTHY $< -o $@
$(IMAGE_BIN)/%: deploy/images/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(IMAGE_CFLAGS) $< -o $@
.PHONY: images
images: $(ZKUBE) $(IMAGE_BINS)
	@$(ZKUBE) image build $(IMAGE_DIRS)
# ---- end images

deps:
	@sh deploy/deps.sh

test: deps images
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory fuzz
	@sh tests/run.sh

up: deps images
	@$(MAKE) --no-print-directory all
	@sh deploy/up.sh

down:
	@$(BIN)/zkube down

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@sh bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fuzz bin

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
