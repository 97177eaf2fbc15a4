# make bench: the benchmarks of design.md section 10 against their anchors.
#   make bench            full run (a few minutes)
#   make bench QUICK=1    tiny counts, a few seconds: run by make check (tests/bench.bats)
# Binaries under test come from RTCS_BIN (default $(O)/bin); the table goes to
# stdout and to $(O)/bench/results.json.

BENCH_SRC   = $(filter-out bench/relay_anchor.c,$(sort $(wildcard bench/*.c)))
BENCH_OBJ   = $(BENCH_SRC:%.c=$(O)/%.o)
BENCH_TOOLS = $(O)/bench/rtcs-bench $(O)/bench/relay-anchor
RTCS_BIN   ?= $(abspath $(O)/bin)

$(O)/bench/rtcs-bench: $(BENCH_OBJ) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(BENCH_OBJ) $(LIBCOMMON) $(PKG_LIBS) -lpthread -lm

$(O)/bench/relay-anchor: $(O)/bench/relay_anchor.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $<

bench-tools: $(BENCH_TOOLS)

# The programs under test are built first when they are ours ($(O)/bin).
bench: deps-bench $(BENCH_TOOLS) $(O)/tools/wavcmp $(O)/tools/trickle $(if $(filter $(abspath $(O)/bin),$(RTCS_BIN)),all)
	RTCS_BIN=$(RTCS_BIN) RTCS_BENCH_TOOLS=$(abspath $(O)/bench) \
	  RTCS_BENCH_OUT=$(abspath $(O)/bench) QUICK=$(QUICK) bench/run

check: $(BENCH_TOOLS)

.PHONY: bench bench-tools
-include $(BENCH_OBJ:.o=.d) $(O)/bench/relay_anchor.d
