# make demo: the main job on a private server and a temporary store
# (tools/demo.sh): a chat, a push transfer to a tablet through a QR code
# while the peer keeps talking. Needs nothing but the built programs and jq.
demo: $(PROGRAMS:%=$(O)/bin/%)
	@RTCS_BIN=$(abspath $(O)/bin) bash tools/demo.sh

.PHONY: demo
