/* rtcs-session: argument checks and the path of a device's stream. */
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "names.h"
#include "payload.h"
#include "session.h"
#include "xmalloc.h"

int
session_spec(struct cli *cli, char *spec, char **name, char **device, char **keydir)
{
	char *at = strchr(spec, '@'), *colon;

	if (at == NULL)
		return cli_usage_error(cli, "'%s' is not NAME@DEVICE", spec);
	*at = '\0';
	*name = spec;
	*device = at + 1;
	*keydir = NULL;
	if ((colon = strchr(at + 1, ':')) != NULL) {
		*colon = '\0';
		*keydir = colon + 1;
		if (**keydir == '\0')
			return cli_usage_error(cli, "empty key directory after '%s:'", *device);
	}
	if (!name_valid(*name))
		return cli_usage_error(cli, "invalid participant name '%s'", *name);
	if (!name_valid(*device))
		return cli_usage_error(cli, "invalid device name '%s'", *device);
	return 0;
}

int
session_check_id(struct cli *cli, const char *id)
{
	if (!payload_id_valid(id, 'S'))
		return cli_error(cli, EXIT_DATAERR, "'%s' is not a session id", id);
	if (cli->object == NULL)
		cli->object = id;
	return 0;
}

char *
session_stream_path(const char *sid)
{
	if (sopts.since >= 0)
		return xprintf("/v1/sessions/%s/stream?since=%lld", sid, sopts.since);
	return xprintf("/v1/sessions/%s/stream", sid);
}
