# make demo: the main job on a private server and a temporary store
# (tools/demo.sh): a chat, a push transfer to a tablet through a QR code
# while the peer keeps talking. Needs nothing but the built programs and jq.
demo: $(PROGRAMS:%=$(O)/bin/%)
	@RTCS_BIN=$(abspath $(O)/bin) bash tools/demo.sh

.PHONY: demo

# make cluster-demo: three nodes on a 3-member etcd cluster (tools/cluster-demo.sh):
# a transfer asked for on one node, scanned on another, seen on the third.
cluster-demo: $(PROGRAMS:%=$(O)/bin/%)
	@RTCS_BIN=$(abspath $(O)/bin) bash tools/cluster-demo.sh

.PHONY: cluster-demo
