/* Diagnostics on stderr with levels: "prog: message". */
#ifndef RTCS_LOG_H
#define RTCS_LOG_H

enum log_level { LOG_LEVEL_QUIET = -1, LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

void	 log_init(const char *progname, int level);
void	 log_set_level(int level);
int	 log_get_level(void);
const char *log_progname(void);
void	 log_reopen(void);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "prog: message" on stderr whatever the level, then exit(code): for main.c only. */
void	 log_die(int code, const char *, ...) __attribute__((format(printf, 2, 3), noreturn));
#endif
