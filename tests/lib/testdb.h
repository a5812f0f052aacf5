/*
 * testdb.h - a fresh, migrated PostgreSQL database per test.
 *
 * testdb_create() makes a uniquely named database on the private server
 * (HUB_TEST_ADMIN_URL, the URL of a database to connect to for CREATE
 * DATABASE; when unset, `deploy/devdb.sh start` is run and its server used),
 * applies schemas/migrations with store_migrate(), and returns the new
 * database's URL (malloc'd). testdb_drop() drops it and frees the URL.
 * Paths are relative to $HUB_ROOT (the repository), else the current dir.
 */
#ifndef HUB_TESTDB_H
#define HUB_TESTDB_H

/* NULL when the server cannot be reached or the migrations fail. */
char *testdb_create(void);
void testdb_drop(char *url);
/* The repository root: $HUB_ROOT or "." */
const char *testdb_root(void);
/* The migrations directory under the root (static storage). */
const char *testdb_migrations_dir(void);

#endif
