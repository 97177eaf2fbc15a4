# rtcs-code and rtcs-scan: link tweaks, demo and fuzz targets (included by the Makefile).

# The Makefile's first rule is $(O)/config.mk; a bare "make" means "make all".
.DEFAULT_GOAL := all

# Whole-process speed (design.md 10): rtcs-code must start at least as fast
# as qrencode, which loads the same libqrencode and libpng; libpng and zlib
# linked statically spare it two shared-object look-ups at every start.
CODE_STATIC_BEGIN = -Wl,-Bstatic
CODE_STATIC_END = -Wl,-Bdynamic
ifneq ($(wildcard /usr/lib/x86_64-linux-gnu/libpng16.a),)
$(O)/bin/rtcs-code: PKG_LIBS := $(filter-out -lpng16 -lz,$(PKG_LIBS)) $(CODE_STATIC_BEGIN) -lpng16 -lz $(CODE_STATIC_END)
endif
