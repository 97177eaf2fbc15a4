# make install's extras: the systemd user units of rtcs-serve (rtcs-serve(1),
# SYSTEMD) and the bats helper for CI users (rtcs-testing(7)).
UNITDIR    = $(PREFIX)/lib/systemd/user
BATSLIBDIR = $(PREFIX)/lib/bats

install: install-units install-testing install-completions

# What every program's completion file sources, beside it.
install-completions:
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0644 completions/bash/rtcs-common $(DESTDIR)$(PREFIX)/share/bash-completion/completions/rtcs-common
	install -m 0644 completions/zsh/_rtcs_common $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_rtcs_common
	install -m 0644 completions/fish/rtcs-common.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/rtcs-common.fish

install-units:
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/rtcs-serve.service > $(DESTDIR)$(UNITDIR)/rtcs-serve.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rtcs-serve.service
	install -m 0644 systemd/rtcs-serve.socket $(DESTDIR)$(UNITDIR)/rtcs-serve.socket

install-testing:
	install -d $(DESTDIR)$(BATSLIBDIR)/rtcs-testing
	install -m 0644 tests/rtcs-testing/load.bash $(DESTDIR)$(BATSLIBDIR)/rtcs-testing/load.bash

uninstall: uninstall-extras
uninstall-extras:
	rm -f $(DESTDIR)$(UNITDIR)/rtcs-serve.service $(DESTDIR)$(UNITDIR)/rtcs-serve.socket \
	  $(DESTDIR)$(BATSLIBDIR)/rtcs-testing/load.bash $(DESTDIR)$(MANDIR)/man7/rtcs-testing.7 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/rtcs-common \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_rtcs_common \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/rtcs-common.fish
	-rmdir $(DESTDIR)$(BATSLIBDIR)/rtcs-testing 2>/dev/null

.PHONY: install-units install-testing install-completions uninstall-extras
