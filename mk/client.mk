# Client programs: dependencies the generic rules cannot see.

# The unit test compiles rtcs-scan's submit.c in (tests/unit/test_client.c).
$(O)/unit/test_client: cmd/rtcs-scan/submit.c cmd/rtcs-scan/submit.h

# rtcs-scan's placeholder main compiles to nothing once main.c is there;
# rebuild it when main.c appears or changes.
$(O)/cmd/rtcs-scan/stub.o: $(wildcard cmd/rtcs-scan/main.c)
