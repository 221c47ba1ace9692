/*
 * Time: a monotonic clock for deadlines and durations, the wall clock for what is compared
 * with timestamps from elsewhere (tag ages, pull-request merge times), and sleeping.
 *
 * clock_wall_s() honours DOCKERBUMP_NOW (seconds since the epoch) when it is set: the rollout
 * tests drive a month of nights in minutes by moving it. It is for tests only; the monotonic
 * clock never moves with it.
 *
 *	long long deadline = clock_now_ms() + timeout_ms;
 *	while (clock_now_ms() < deadline) ...
 *	clock_sleep_ms(250);
 */
#ifndef DOCKERBUMP_COMMON_CLOCK_H
#define DOCKERBUMP_COMMON_CLOCK_H

/* Milliseconds of a monotonic clock. */
long long clock_now_ms(void);
/* Seconds (with a fraction) of a monotonic clock, for step timings. */
double clock_now_s(void);
/* Seconds since the epoch: DOCKERBUMP_NOW when set to a number, else the real time. */
long long clock_wall_s(void);
/* Sleeps `ms` milliseconds (resumed after signals); nothing for ms <= 0. */
void clock_sleep_ms(long ms);

#endif
