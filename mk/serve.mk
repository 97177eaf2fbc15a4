# rtcs-serve extras: the load tool used to measure the server (tests/tools/serve_load.c).
serve-load: $(O)/tools/serve-load
$(O)/tools/serve-load: tests/tools/serve_load.c | $(O)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<
.PHONY: serve-load

# tests/unit/test_serve.c exercises the server's model: it links rtcs-serve's
# objects (all but main.o) besides libcommon.
SERVE_TEST_OBJ = $(filter-out %/main.o,$(rtcs-serve_OBJ))
$(O)/unit/test_serve: tests/unit/test_serve.c $(SERVE_TEST_OBJ) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Icmd/rtcs-serve $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(SERVE_TEST_OBJ) $(LIBCOMMON) $(PKG_LIBS) -lm
