# Cross-program tests: the tools they need (included by the Makefile).

# pacer: a peer sending a numbered message every 20 ms through a transfer
# (tests/transfer_continuity.bats). libcommon's libcurl client, so the pace
# rides one keep-alive connection as a real device's would.
PACER = $(O)/tools/pacer
$(PACER): tests/tools/pacer.c $(LIBCOMMON) | $(O)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBCOMMON) $(PKG_LIBS) -lm
pacer: $(PACER)
check: $(PACER)

.PHONY: pacer

# store-put: writes a well-framed document into a stopped store (tests of bad contents).
STORE_PUT = $(O)/tools/store-put
$(STORE_PUT): tests/tools/store_put.c $(LIBCOMMON) | $(O)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBCOMMON) $(PKG_LIBS) -lm
check: $(STORE_PUT)

# trickle: slow request heads (the header timeout, issue 10).
TRICKLE = $(O)/tools/trickle
$(TRICKLE): tests/tools/trickle.c | $(O)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS)
check: $(TRICKLE)

# wavcmp: received audio against what was sent, after a switch (tests/media_continuity.bats, bench).
WAVCMP = $(O)/tools/wavcmp
$(WAVCMP): tests/tools/wavcmp.c | $(O)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS) -lm
wavcmp: $(WAVCMP)
check: $(WAVCMP)

.PHONY: wavcmp
