/* rtcs-session: argument checks and saving a device's token. */
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "keys.h"
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
	return 0;
}

int
session_save_token(struct cli *cli, const char *keydir, const char *device,
    const char *sid, const char *token)
{
	char *cause = NULL;
	int rc;

	if (keydir == NULL)
		return cli_device_put(cli, device, "token", sid, token);
	if ((rc = keys_put(keydir, device, "token", sid, token, &cause)) != 0) {
		cli_error(cli, EXIT_IOERR, "cannot write %s/%s.token: %s", keydir, device, cause);
		free(cause);
		return EXIT_IOERR;
	}
	return 0;
}
