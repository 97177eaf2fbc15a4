# rtcs-serve extras: the load tool used to measure the server (tests/tools/serve_load.c).
serve-load: $(O)/tools/serve-load
$(O)/tools/serve-load: tests/tools/serve_load.c | $(O)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<
.PHONY: serve-load
