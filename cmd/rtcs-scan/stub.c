/* Placeholder for rtcs-scan's main until the decoder's main.c is merged in; then it compiles to nothing. */
#if !__has_include("main.c")
#include <stdio.h>

int	main(void);

int
main(void)
{
	fprintf(stderr, "rtcs-scan: this build has no decoder yet\n");
	return 70;
}
#else
typedef int rtcs_scan_stub_unused;
#endif
