#include "updater/cli.h"

#include "common/banned.h"

int cmd_verify(const struct cli_global *g, int argc, char **argv, struct db_err *err)
{
	(void)g;
	(void)argc;
	(void)argv;
	return db_err_set(err, DB_ERROR, "'verify' is not implemented yet");
}
