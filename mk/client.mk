# Client programs: dependencies the generic rules cannot see.

# The unit test compiles rtcs-scan's submit.c in (tests/unit/test_client.c).
$(O)/unit/test_client: cmd/rtcs-transfer/submit.c cmd/rtcs-transfer/submit.h

