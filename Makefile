# SPDX-License-Identifier: Apache-2.0
#
#   make                 build ./build/kiln
#   make check           build and run every test (tests/run)
#   make check-san       the same suite under ASan + UBSan, in ./build-san
#   make guests          the freestanding test guests
#   make fuzz            libFuzzer targets (clang)

BUILD ?= build
SAN ?= 0

CC ?= gcc
CFLAGS_BASE := -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -Isrc \
	-fno-strict-aliasing -pthread -MMD -MP
ifeq ($(SAN),1)
CFLAGS_OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
else
CFLAGS_OPT := -O2
LDFLAGS_SAN :=
endif
CFLAGS += $(CFLAGS_BASE) $(CFLAGS_OPT)
LDLIBS += -pthread $(LDFLAGS_SAN)

# Libraries found by pkg-config, as later subsystems need them.
KILN_PKGS := json-c liburing slirp
PKGS := $(shell for p in $(KILN_PKGS); do pkg-config --exists $$p && echo $$p; done)
ifneq ($(PKGS),)
CFLAGS += $(shell pkg-config --cflags $(PKGS))
LDLIBS += $(shell pkg-config --libs $(PKGS))
endif

SRCS := $(shell find src -name '*.c' | sort)
MAIN_SRC := src/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/%.o)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
# One object per source, so that each gets its own -MMD file (a test's
# headers in tests/unit/ included): gcc given several sources and one -o
# writes every source's dependencies to the same .d, the last one winning.
# (Such a stale .d names sources and headers as the test binary's
# prerequisites: the link takes only objects and the library.)
UNIT_HELPER_OBJS := $(UNIT_HELPERS:%.c=$(BUILD)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o) $(UNIT_HELPER_OBJS)

.PHONY: all check check-san guests clean fuzz
all: $(BUILD)/kiln

ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libkiln.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/kiln: $(MAIN_OBJ) $(BUILD)/libkiln.a
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

$(UNIT_BINS): $(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(UNIT_HELPER_OBJS) $(BUILD)/libkiln.a
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(LDFLAGS) $(filter %.o %.a,$^) -o $@ $(LDLIBS) -lcmocka

.SECONDARY: $(UNIT_OBJS)

unit: $(UNIT_BINS)

# The differential tester (tests/difftest): soft CPU against the host CPU.
DIFFTEST_SRCS := $(sort $(wildcard tests/difftest/*.c tests/difftest/*.S))
$(BUILD)/difftest: $(DIFFTEST_SRCS) $(wildcard tests/difftest/*.h) $(BUILD)/libkiln.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -Itests/difftest $(DIFFTEST_SRCS) $(BUILD)/libkiln.a -o $@ $(LDLIBS)

guests:
	$(MAKE) -C tests/guests BUILD=$(abspath $(BUILD))/guests

check: all unit guests $(BUILD)/difftest
	BUILD=$(BUILD) tests/run

fuzz:
	$(MAKE) -C tests/fuzz BUILD=$(abspath $(BUILD))/fuzz

check-san:
	$(MAKE) BUILD=build-san SAN=1 check

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
