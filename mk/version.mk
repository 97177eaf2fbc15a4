# --version's build information: the git revision, in a header rewritten only
# when it changes (so a new commit rebuilds one object, and only then).
BUILD_H = $(O)/gen/rtcs_build.h
$(BUILD_H): FORCE
	@mkdir -p $(@D)
	@rev=$$(git -C $(CURDIR) describe --always --dirty --abbrev=12 2>/dev/null || echo unknown); \
	  sd=$$(pkg-config --modversion libsystemd 2>/dev/null || echo unknown); \
	  printf '#define RTCS_GIT_REV "%s"\n#define RTCS_LIBSYSTEMD_VERSION "%s (at build time)"\n' \
	    "$$rev" "$$sd" > $@.tmp; \
	  if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(O)/common/version.o $(O)/cmd/rtcs-serve/libs.o: $(BUILD_H)
$(O)/common/version.o $(O)/cmd/rtcs-serve/libs.o: CPPFLAGS += -I$(O)/gen
FORCE:
.PHONY: FORCE
