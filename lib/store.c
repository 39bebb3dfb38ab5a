/*
 * store: SQLite with WAL and synchronous=FULL (a committed transition
 * survives a power cut, not only a crash), a busy timeout so a second
 * reader (sqlite3 from a shell) cannot make a write fail, and prepared
 * statements kept for the life of the handle: status of a 1,000-job run
 * is a handful of milliseconds.
 *
 * Migrations are an array of SQL scripts; migrations[i] takes version i
 * to i + 1 inside one transaction.
 */
#include "rtc_build.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "clock.h"
#include "error.h"
#include "store.h"

static const char *const migrations[RTC_STORE_SCHEMA] = {
	/* 0 -> 1 */
	"CREATE TABLE runs ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL UNIQUE,"
	"  created REAL NOT NULL,"
	"  finished REAL NOT NULL DEFAULT 0,"
	"  dataset TEXT NOT NULL,"
	"  output TEXT NOT NULL,"
	"  app TEXT NOT NULL,"
	"  runtime TEXT NOT NULL,"
	"  backend TEXT NOT NULL,"
	"  cancelled INTEGER NOT NULL DEFAULT 0,"
	"  submit_seq INTEGER NOT NULL DEFAULT 0,"
	"  spec TEXT NOT NULL);"
	"CREATE TABLE jobs ("
	"  run TEXT NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  participant TEXT NOT NULL,"
	"  session TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL,"
	"  attempt_limit INTEGER NOT NULL,"
	"  cpus INTEGER NOT NULL,"
	"  mem_mb INTEGER NOT NULL,"
	"  time_min INTEGER NOT NULL,"
	"  backend_id TEXT NOT NULL,"
	"  token TEXT NOT NULL,"
	"  exit_code INTEGER NOT NULL,"
	"  sched_state TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  cancel_sent INTEGER NOT NULL,"
	"  ninputs INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  updated REAL NOT NULL,"
	"  PRIMARY KEY (run, idx)) WITHOUT ROWID;"
	"CREATE INDEX jobs_state ON jobs(state);"
	"CREATE TABLE attempts ("
	"  run TEXT NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  backend_id TEXT NOT NULL,"
	"  cpus INTEGER NOT NULL,"
	"  mem_mb INTEGER NOT NULL,"
	"  time_min INTEGER NOT NULL,"
	"  submitted REAL NOT NULL,"
	"  ended REAL NOT NULL,"
	"  sched_state TEXT NOT NULL,"
	"  exit_code INTEGER NOT NULL,"
	"  outcome TEXT NOT NULL,"
	"  PRIMARY KEY (run, idx, n)) WITHOUT ROWID;"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  run TEXT NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  time REAL NOT NULL,"
	"  text TEXT NOT NULL);"
	"CREATE INDEX events_run ON events(run, id);",
};

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_RUN_ADD, S_RUN_SETID, S_RUN_UPDATE, S_RUN_GET, S_RUN_LIST,
	S_JOB_ADD, S_JOB_PUT, S_JOB_GET, S_JOBS_RUN, S_JOBS_ALL, S_JOB_COUNTS,
	S_ATT_PUT, S_ATT_RUN, S_ATT_JOB,
	S_EV_ADD, S_EV_LIST,
	S__N
};

#define JOB_COLS "run, idx, participant, session, state, attempts, " \
	"attempt_limit, cpus, mem_mb, time_min, backend_id, token, " \
	"exit_code, sched_state, reason, cancel_sent, ninputs, bytes, updated"
#define RUN_COLS "id, created, finished, dataset, output, app, runtime, " \
	"backend, cancelled, submit_seq, spec"
#define ATT_COLS "run, idx, n, backend_id, cpus, mem_mb, time_min, " \
	"submitted, ended, sched_state, exit_code, outcome"

static const char *const stmt_sql[S__N] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_RUN_ADD] = "INSERT INTO runs (" RUN_COLS ") VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?)",
	[S_RUN_SETID] = "UPDATE runs SET id = 'r' || seq WHERE seq = ?",
	[S_RUN_UPDATE] = "UPDATE runs SET finished = ?, cancelled = ?, "
	    "submit_seq = ? WHERE id = ?",
	[S_RUN_GET] = "SELECT " RUN_COLS " FROM runs WHERE id = ?",
	[S_RUN_LIST] = "SELECT " RUN_COLS " FROM runs ORDER BY seq",
	[S_JOB_ADD] = "INSERT INTO jobs (" JOB_COLS ") VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[S_JOB_PUT] = "UPDATE jobs SET participant = ?3, session = ?4, "
	    "state = ?5, attempts = ?6, attempt_limit = ?7, cpus = ?8, "
	    "mem_mb = ?9, time_min = ?10, backend_id = ?11, token = ?12, "
	    "exit_code = ?13, sched_state = ?14, reason = ?15, "
	    "cancel_sent = ?16, ninputs = ?17, bytes = ?18, updated = ?19 "
	    "WHERE run = ?1 AND idx = ?2",
	[S_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE run = ? AND idx = ?",
	[S_JOBS_RUN] = "SELECT " JOB_COLS " FROM jobs WHERE run = ? "
	    "ORDER BY idx",
	[S_JOBS_ALL] = "SELECT " JOB_COLS " FROM jobs ORDER BY run, idx",
	[S_JOB_COUNTS] = "SELECT state, count(*) FROM jobs WHERE run = ? "
	    "GROUP BY state",
	[S_ATT_PUT] = "INSERT OR REPLACE INTO attempts (" ATT_COLS ") VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?)",
	[S_ATT_RUN] = "SELECT " ATT_COLS " FROM attempts WHERE run = ? "
	    "ORDER BY idx, n",
	[S_ATT_JOB] = "SELECT " ATT_COLS " FROM attempts WHERE run = ? "
	    "AND idx = ? ORDER BY n",
	[S_EV_ADD] = "INSERT INTO events (run, idx, time, text) VALUES "
	    "(?,?,?,?)",
	[S_EV_LIST] = "SELECT id, idx, time, text FROM events WHERE run = ? "
	    "AND id > ? ORDER BY id LIMIT ?",
};

struct rtc_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S__N];
	int version;
};

static int
db_error(struct rtc_store *st, const char *what, char **cause)
{
	int code = sqlite3_extended_errcode(st->db);

	rtc_cause_set(cause, "job store: %s: %s", what, sqlite3_errmsg(st->db));
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return RTC_ERR_BUSY;
	if ((code & 0xff) == SQLITE_FULL)
		return RTC_ERR_IO;
	if ((code & 0xff) == SQLITE_CONSTRAINT)
		return RTC_ERR_EXISTS;
	return RTC_ERR_IO;
}

/* RET: the reset statement, prepared on first use, or NULL. */
static sqlite3_stmt *
stmt(struct rtc_store *st, enum stmt_id id, char **cause)
{
	sqlite3_stmt *s = st->stmt[id];

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			db_error(st, "prepare", cause);
			return NULL;
		}
		st->stmt[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static int
exec_sql(struct rtc_store *st, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		rtc_cause_set(cause, "job store: %s", err ? err : "exec failed");
		sqlite3_free(err);
		return RTC_ERR_IO;
	}
	return RTC_OK;
}

static int
migrate(struct rtc_store *st, char **cause)
{
	sqlite3_stmt *s;
	int v, r;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
	    NULL) != SQLITE_OK)
		return db_error(st, "schema version", cause);
	v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_finalize(s);
	if (v < 0)
		return db_error(st, "schema version", cause);
	if (v > RTC_STORE_SCHEMA) {
		rtc_cause_set(cause, "job store: schema version %d is newer than "
		    "this rtcd knows (%d): run the newer rtcd, or move the state "
		    "directory away", v, RTC_STORE_SCHEMA);
		return RTC_ERR_UNSUPPORTED;
	}
	while (v < RTC_STORE_SCHEMA) {
		char pragma[48];

		r = exec_sql(st, "BEGIN IMMEDIATE", cause);
		if (r != RTC_OK)
			return r;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		r = exec_sql(st, migrations[v], cause);
		if (r == RTC_OK)
			r = exec_sql(st, pragma, cause);
		if (r == RTC_OK)
			r = exec_sql(st, "COMMIT", cause);
		if (r != RTC_OK) {
			exec_sql(st, "ROLLBACK", NULL);
			rtc_cause_wrap(cause, "migrating the job store to version %d",
			    v + 1);
			return r;
		}
		v++;
	}
	st->version = v;
	return RTC_OK;
}

int
rtc_store_open(const char *path, struct rtc_store **out, char **cause)
{
	struct rtc_store *st;
	mode_t old;
	int r;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return RTC_ERR_NOMEM;
	old = umask(077);
	r = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (r != SQLITE_OK) {
		rtc_cause_set(cause, "job store %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "cannot open");
		r = RTC_ERR_IO;
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	r = exec_sql(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    " PRAGMA foreign_keys = ON;", cause);
	if (r != RTC_OK) {
		rtc_cause_wrap(cause, "%s", path);
		goto fail;
	}
	r = migrate(st, cause);
	if (r != RTC_OK)
		goto fail;
	*out = st;
	return RTC_OK;
fail:
	rtc_store_close(st);
	return r;
}

void
rtc_store_close(struct rtc_store *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < S__N; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

int
rtc_store_schema_version(struct rtc_store *st)
{
	return st->version;
}

static int
step_done(struct rtc_store *st, sqlite3_stmt *s, const char *what,
    char **cause)
{
	int r = sqlite3_step(s);

	sqlite3_reset(s);
	if (r != SQLITE_DONE)
		return db_error(st, what, cause);
	return RTC_OK;
}

static int
simple(struct rtc_store *st, enum stmt_id id, const char *what, char **cause)
{
	sqlite3_stmt *s = stmt(st, id, cause);

	if (s == NULL)
		return RTC_ERR_IO;
	return step_done(st, s, what, cause);
}

int
rtc_store_begin(struct rtc_store *st, char **cause)
{
	return simple(st, S_BEGIN, "begin", cause);
}

int
rtc_store_commit(struct rtc_store *st, char **cause)
{
	return simple(st, S_COMMIT, "commit", cause);
}

void
rtc_store_rollback(struct rtc_store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		(void)simple(st, S_ROLLBACK, "rollback", NULL);
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT);
}

/* Copy column i (text) into a fixed buffer. */
static void
col_copy(sqlite3_stmt *s, int i, char *out, size_t outsz)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	snprintf(out, outsz, "%s", t != NULL ? (const char *)t : "");
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return strdup(t != NULL ? (const char *)t : "");
}

int
rtc_store_run_add(struct rtc_store *st, struct rtc_run *run, char **cause)
{
	sqlite3_stmt *s;
	char tmp[RTC_RUN_ID_MAX], *spec;
	sqlite3_int64 seq;
	int r;

	spec = run->spec != NULL ? json_dumps(run->spec, JSON_COMPACT) :
	    strdup("{}");
	if (spec == NULL)
		return RTC_ERR_NOMEM;
	if ((s = stmt(st, S_RUN_ADD, cause)) == NULL) {
		free(spec);
		return RTC_ERR_IO;
	}
	/* a unique placeholder until the sequence number is known */
	snprintf(tmp, sizeof(tmp), "new-%lld", (long long)rtc_clock_mono_ns());
	bind_text(s, 1, tmp);
	sqlite3_bind_double(s, 2, run->created);
	sqlite3_bind_double(s, 3, run->finished);
	bind_text(s, 4, run->dataset);
	bind_text(s, 5, run->output);
	bind_text(s, 6, run->app);
	bind_text(s, 7, run->runtime);
	bind_text(s, 8, run->backend);
	sqlite3_bind_int(s, 9, run->cancelled);
	sqlite3_bind_int(s, 10, run->submit_seq);
	bind_text(s, 11, spec);
	r = step_done(st, s, "add run", cause);
	free(spec);
	if (r != RTC_OK)
		return r;
	seq = sqlite3_last_insert_rowid(st->db);
	if ((s = stmt(st, S_RUN_SETID, cause)) == NULL)
		return RTC_ERR_IO;
	sqlite3_bind_int64(s, 1, seq);
	r = step_done(st, s, "name run", cause);
	if (r == RTC_OK)
		snprintf(run->id, sizeof(run->id), "r%lld", (long long)seq);
	return r;
}

int
rtc_store_run_update(struct rtc_store *st, const struct rtc_run *run,
    char **cause)
{
	sqlite3_stmt *s = stmt(st, S_RUN_UPDATE, cause);

	if (s == NULL)
		return RTC_ERR_IO;
	sqlite3_bind_double(s, 1, run->finished);
	sqlite3_bind_int(s, 2, run->cancelled);
	sqlite3_bind_int(s, 3, run->submit_seq);
	bind_text(s, 4, run->id);
	return step_done(st, s, "update run", cause);
}

void
rtc_run_free(struct rtc_run *run)
{
	if (run == NULL)
		return;
	free(run->dataset);
	free(run->output);
	free(run->app);
	free(run->runtime);
	free(run->backend);
	json_decref(run->spec);
	free(run);
}

void
rtc_run_list_free(struct rtc_run **runs, size_t n)
{
	size_t i;

	if (runs == NULL)
		return;
	for (i = 0; i < n; i++)
		rtc_run_free(runs[i]);
	free(runs);
}

static struct rtc_run *
run_from_row(sqlite3_stmt *s)
{
	struct rtc_run *run = calloc(1, sizeof(*run));
	const char *spec;

	if (run == NULL)
		return NULL;
	col_copy(s, 0, run->id, sizeof(run->id));
	run->created = sqlite3_column_double(s, 1);
	run->finished = sqlite3_column_double(s, 2);
	run->dataset = col_dup(s, 3);
	run->output = col_dup(s, 4);
	run->app = col_dup(s, 5);
	run->runtime = col_dup(s, 6);
	run->backend = col_dup(s, 7);
	run->cancelled = sqlite3_column_int(s, 8);
	run->submit_seq = sqlite3_column_int(s, 9);
	spec = (const char *)sqlite3_column_text(s, 10);
	run->spec = spec != NULL ? json_loads(spec, 0, NULL) : NULL;
	if (run->spec == NULL)
		run->spec = json_object();
	if (run->dataset == NULL || run->output == NULL || run->app == NULL ||
	    run->runtime == NULL || run->backend == NULL || run->spec == NULL) {
		rtc_run_free(run);
		return NULL;
	}
	return run;
}

int
rtc_store_run_get(struct rtc_store *st, const char *id,
    struct rtc_run **out, char **cause)
{
	sqlite3_stmt *s = stmt(st, S_RUN_GET, cause);
	struct rtc_run *run;
	int r;

	if (s == NULL)
		return RTC_ERR_IO;
	bind_text(s, 1, id);
	r = sqlite3_step(s);
	if (r == SQLITE_DONE) {
		sqlite3_reset(s);
		rtc_cause_set(cause, "no run '%s': 'rtc status' lists the runs", id);
		return RTC_ERR_NOT_FOUND;
	}
	if (r != SQLITE_ROW) {
		r = db_error(st, "get run", cause);
		sqlite3_reset(s);
		return r;
	}
	run = run_from_row(s);
	sqlite3_reset(s);
	if (run == NULL)
		return RTC_ERR_NOMEM;
	*out = run;
	return RTC_OK;
}

int
rtc_store_run_list(struct rtc_store *st, struct rtc_run ***out, size_t *n,
    char **cause)
{
	sqlite3_stmt *s = stmt(st, S_RUN_LIST, cause);
	struct rtc_run **v = NULL, **nv, *run;
	size_t len = 0, cap = 0;
	int r;

	if (s == NULL)
		return RTC_ERR_IO;
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				goto nomem;
			v = nv;
		}
		run = run_from_row(s);
		if (run == NULL)
			goto nomem;
		v[len++] = run;
	}
	if (r != SQLITE_DONE) {
		r = db_error(st, "list runs", cause);
		sqlite3_reset(s);
		rtc_run_list_free(v, len);
		return r;
	}
	sqlite3_reset(s);
	*out = v;
	*n = len;
	return RTC_OK;
nomem:
	sqlite3_reset(s);
	rtc_run_list_free(v, len);
	return RTC_ERR_NOMEM;
}

static void
bind_job(sqlite3_stmt *s, const struct rtc_job *j)
{
	bind_text(s, 1, j->run);
	sqlite3_bind_int(s, 2, j->idx);
	bind_text(s, 3, j->participant);
	bind_text(s, 4, j->session);
	bind_text(s, 5, rtc_job_state_name(j->state));
	sqlite3_bind_int(s, 6, j->attempts);
	sqlite3_bind_int(s, 7, j->attempt_limit);
	sqlite3_bind_int(s, 8, j->cpus);
	sqlite3_bind_int64(s, 9, j->mem_mb);
	sqlite3_bind_int64(s, 10, j->time_min);
	bind_text(s, 11, j->backend_id);
	bind_text(s, 12, j->token);
	sqlite3_bind_int(s, 13, j->exit_code);
	bind_text(s, 14, j->sched_state);
	bind_text(s, 15, j->reason);
	sqlite3_bind_int(s, 16, j->cancel_sent);
	sqlite3_bind_int(s, 17, j->ninputs);
	sqlite3_bind_int64(s, 18, j->bytes);
	sqlite3_bind_double(s, 19, j->updated);
}

static void
job_from_row(sqlite3_stmt *s, struct rtc_job *j)
{
	char state[16];

	memset(j, 0, sizeof(*j));
	col_copy(s, 0, j->run, sizeof(j->run));
	j->idx = sqlite3_column_int(s, 1);
	col_copy(s, 2, j->participant, sizeof(j->participant));
	col_copy(s, 3, j->session, sizeof(j->session));
	col_copy(s, 4, state, sizeof(state));
	if (rtc_job_state_parse(state, &j->state) != RTC_OK)
		j->state = RTC_JOB_FAILED;
	j->attempts = sqlite3_column_int(s, 5);
	j->attempt_limit = sqlite3_column_int(s, 6);
	j->cpus = sqlite3_column_int(s, 7);
	j->mem_mb = (long)sqlite3_column_int64(s, 8);
	j->time_min = (long)sqlite3_column_int64(s, 9);
	col_copy(s, 10, j->backend_id, sizeof(j->backend_id));
	col_copy(s, 11, j->token, sizeof(j->token));
	j->exit_code = sqlite3_column_int(s, 12);
	col_copy(s, 13, j->sched_state, sizeof(j->sched_state));
	col_copy(s, 14, j->reason, sizeof(j->reason));
	j->cancel_sent = sqlite3_column_int(s, 15);
	j->ninputs = sqlite3_column_int(s, 16);
	j->bytes = sqlite3_column_int64(s, 17);
	j->updated = sqlite3_column_double(s, 18);
}

int
rtc_store_job_add(struct rtc_store *st, const struct rtc_job *job,
    char **cause)
{
	sqlite3_stmt *s = stmt(st, S_JOB_ADD, cause);

	if (s == NULL)
		return RTC_ERR_IO;
	bind_job(s, job);
	return step_done(st, s, "add job", cause);
}

int
rtc_store_job_put(struct rtc_store *st, const struct rtc_job *job,
    char **cause)
{
	sqlite3_stmt *s = stmt(st, S_JOB_PUT, cause);
	int r;

	if (s == NULL)
		return RTC_ERR_IO;
	bind_job(s, job);
	r = step_done(st, s, "store job", cause);
	if (r == RTC_OK && sqlite3_changes(st->db) != 1) {
		rtc_cause_set(cause, "job store: no job %s/%d", job->run, job->idx);
		return RTC_ERR_NOT_FOUND;
	}
	return r;
}

int
rtc_store_job_get(struct rtc_store *st, const char *run, int idx,
    struct rtc_job *out, char **cause)
{
	sqlite3_stmt *s = stmt(st, S_JOB_GET, cause);
	int r;

	if (s == NULL)
		return RTC_ERR_IO;
	bind_text(s, 1, run);
	sqlite3_bind_int(s, 2, idx);
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		job_from_row(s, out);
		sqlite3_reset(s);
		return RTC_OK;
	}
	sqlite3_reset(s);
	if (r == SQLITE_DONE) {
		rtc_cause_set(cause, "no job %d in run %s", idx, run);
		return RTC_ERR_NOT_FOUND;
	}
	return db_error(st, "get job", cause);
}

int
rtc_store_jobs(struct rtc_store *st, const char *run, unsigned mask,
    struct rtc_job **out, size_t *n, char **cause)
{
	sqlite3_stmt *s;
	struct rtc_job *v = NULL, *nv, j;
	size_t len = 0, cap = 0;
	int r;

	s = stmt(st, run != NULL ? S_JOBS_RUN : S_JOBS_ALL, cause);
	if (s == NULL)
		return RTC_ERR_IO;
	if (run != NULL)
		bind_text(s, 1, run);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		job_from_row(s, &j);
		if ((mask & RTC_JOB_MASK(j.state)) == 0)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				sqlite3_reset(s);
				free(v);
				return RTC_ERR_NOMEM;
			}
			v = nv;
		}
		v[len++] = j;
	}
	sqlite3_reset(s);
	if (r != SQLITE_DONE) {
		free(v);
		return db_error(st, "list jobs", cause);
	}
	*out = v;
	*n = len;
	return RTC_OK;
}

int
rtc_store_job_counts(struct rtc_store *st, const char *run,
    size_t counts[RTC_JOB__NSTATES], char **cause)
{
	sqlite3_stmt *s = stmt(st, S_JOB_COUNTS, cause);
	enum rtc_job_state js;
	size_t c[RTC_JOB__NSTATES] = { 0 };
	int r;

	if (s == NULL)
		return RTC_ERR_IO;
	bind_text(s, 1, run);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);

		if (name != NULL && rtc_job_state_parse(name, &js) == RTC_OK)
			c[js] = (size_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (r != SQLITE_DONE)
		return db_error(st, "count jobs", cause);
	memcpy(counts, c, sizeof(c));
	return RTC_OK;
}

int
rtc_store_attempt_put(struct rtc_store *st, const struct rtc_attempt *a,
    char **cause)
{
	sqlite3_stmt *s = stmt(st, S_ATT_PUT, cause);

	if (s == NULL)
		return RTC_ERR_IO;
	bind_text(s, 1, a->run);
	sqlite3_bind_int(s, 2, a->idx);
	sqlite3_bind_int(s, 3, a->n);
	bind_text(s, 4, a->backend_id);
	sqlite3_bind_int(s, 5, a->cpus);
	sqlite3_bind_int64(s, 6, a->mem_mb);
	sqlite3_bind_int64(s, 7, a->time_min);
	sqlite3_bind_double(s, 8, a->submitted);
	sqlite3_bind_double(s, 9, a->ended);
	bind_text(s, 10, a->sched_state);
	sqlite3_bind_int(s, 11, a->exit_code);
	bind_text(s, 12, a->outcome);
	return step_done(st, s, "store attempt", cause);
}

int
rtc_store_attempts(struct rtc_store *st, const char *run, int idx,
    struct rtc_attempt **out, size_t *n, char **cause)
{
	sqlite3_stmt *s = stmt(st, idx < 0 ? S_ATT_RUN : S_ATT_JOB, cause);
	struct rtc_attempt *v = NULL, *nv, *a;
	size_t len = 0, cap = 0;
	int r;

	if (s == NULL)
		return RTC_ERR_IO;
	bind_text(s, 1, run);
	if (idx >= 0)
		sqlite3_bind_int(s, 2, idx);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				sqlite3_reset(s);
				free(v);
				return RTC_ERR_NOMEM;
			}
			v = nv;
		}
		a = &v[len++];
		memset(a, 0, sizeof(*a));
		col_copy(s, 0, a->run, sizeof(a->run));
		a->idx = sqlite3_column_int(s, 1);
		a->n = sqlite3_column_int(s, 2);
		col_copy(s, 3, a->backend_id, sizeof(a->backend_id));
		a->cpus = sqlite3_column_int(s, 4);
		a->mem_mb = (long)sqlite3_column_int64(s, 5);
		a->time_min = (long)sqlite3_column_int64(s, 6);
		a->submitted = sqlite3_column_double(s, 7);
		a->ended = sqlite3_column_double(s, 8);
		col_copy(s, 9, a->sched_state, sizeof(a->sched_state));
		a->exit_code = sqlite3_column_int(s, 10);
		col_copy(s, 11, a->outcome, sizeof(a->outcome));
	}
	sqlite3_reset(s);
	if (r != SQLITE_DONE) {
		free(v);
		return db_error(st, "list attempts", cause);
	}
	*out = v;
	*n = len;
	return RTC_OK;
}

int
rtc_store_event_add(struct rtc_store *st, const char *run, int idx,
    const char *text, char **cause)
{
	sqlite3_stmt *s = stmt(st, S_EV_ADD, cause);
	size_t n = strlen(text);

	if (s == NULL)
		return RTC_ERR_IO;
	bind_text(s, 1, run);
	sqlite3_bind_int(s, 2, idx);
	sqlite3_bind_double(s, 3, rtc_clock_wall());
	sqlite3_bind_text(s, 4, text, n > 1024 ? 1024 : (int)n,
	    SQLITE_TRANSIENT);
	return step_done(st, s, "add event", cause);
}

int
rtc_store_events(struct rtc_store *st, const char *run, long long after,
    int limit, struct rtc_event **out, size_t *n, char **cause)
{
	sqlite3_stmt *s = stmt(st, S_EV_LIST, cause);
	struct rtc_event *v = NULL, *nv;
	size_t len = 0, cap = 0;
	int r;

	if (s == NULL)
		return RTC_ERR_IO;
	bind_text(s, 1, run);
	sqlite3_bind_int64(s, 2, after);
	sqlite3_bind_int(s, 3, limit > 0 ? limit : 1000000);
	while ((r = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				goto nomem;
			v = nv;
		}
		v[len].id = sqlite3_column_int64(s, 0);
		v[len].idx = sqlite3_column_int(s, 1);
		v[len].time = sqlite3_column_double(s, 2);
		v[len].text = col_dup(s, 3);
		if (v[len].text == NULL)
			goto nomem;
		len++;
	}
	sqlite3_reset(s);
	if (r != SQLITE_DONE) {
		rtc_store_events_free(v, len);
		return db_error(st, "list events", cause);
	}
	*out = v;
	*n = len;
	return RTC_OK;
nomem:
	sqlite3_reset(s);
	rtc_store_events_free(v, len);
	return RTC_ERR_NOMEM;
}

void
rtc_store_events_free(struct rtc_event *ev, size_t n)
{
	size_t i;

	if (ev == NULL)
		return;
	for (i = 0; i < n; i++)
		free(ev[i].text);
	free(ev);
}
