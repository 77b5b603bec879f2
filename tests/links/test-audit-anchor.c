/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "test-audit-anchor"

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "pd-accounts.h"
#include "pd-audit-anchor.h"
#include "pd-hospital-link.h"
#include "pd-store.h"
#include "sandbox-harness.h"

/* The audit anchor (hospital.md) against the real sandbox: each sync
 * leaves the signed head with the hospital; a database restored from an
 * older copy shows as a rollback, in core and in `audit verify
 * --against-anchor`; the sandbox refuses a malformed anchor. */

typedef struct {
  char           *path;
  PdStore        *store;
  PdSession      *session;
  PdHospitalLink *link;
} Desk;

static void
desk_connect (Desk    *d,
              Sandbox *sb)
{
  g_autoptr(GError) error = NULL;
  PdFhirClient *client = pd_fhir_client_new (sb->config, &error);

  g_assert_no_error (error);
  pd_fhir_client_set_retry (client, 3, 50);
  g_clear_pointer (&d->link, pd_hospital_link_free);
  d->link = pd_hospital_link_new (d->session, client, NULL);
  pd_hospital_link_set_pharmacy (d->link, sb->config->fixmedins_code, sb->config->fixmedins_name);
}

static void
desk_reopen (Desk    *d,
             Sandbox *sb)
{
  g_autoptr(GError) error = NULL;

  d->store = pd_store_open (d->path, &error);
  g_assert_no_error (error);
  d->session = pd_session_sign_in (d->store, "ph", "pharmacist-password", &error);
  g_assert_no_error (error);
  desk_connect (d, sb);
}

static void
desk_open (Desk       *d,
           Sandbox    *sb,
           const char *name)
{
  PdAccountSpec admin = { "admin", "管理员", PD_ROLE_ADMIN, NULL, NULL, NULL };
  PdAccountSpec pharmacist = { "ph", "药师", PD_ROLE_PHARMACIST, "YS-110105-0001", "Practitioner/ph-1", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *recovery = NULL;
  g_autoptr(PdSession) boss = NULL;

  d->path = g_build_filename (state_root, name, NULL);
  d->store = pd_store_open (d->path, &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_init (d->store, &admin, "admin-password", &recovery, &error));
  boss = pd_session_sign_in (d->store, "admin", "admin-password", &error);
  g_assert_no_error (error);
  g_assert_true (pd_accounts_add (boss, &pharmacist, "pharmacist-password", &error));
  g_assert_no_error (error);
  g_clear_object (&boss);
  pd_store_close (d->store);
  g_clear_object (&d->store);
  desk_reopen (d, sb);
}

static void
desk_close (Desk *d)
{
  g_clear_pointer (&d->link, pd_hospital_link_free);
  g_clear_object (&d->session);
  if (d->store != NULL)
    pd_store_close (d->store);
  g_clear_object (&d->store);
}

static void
sync_ok (Desk        *d,
         PdSyncStats *stats)
{
  g_autoptr(GError) error = NULL;

  pd_sync_stats_clear (stats);
  if (!pd_hospital_link_sync (d->link, NULL, NULL, NULL, stats, &error))
    g_error ("sync: %s", error->message);
}

/* A consistent copy of the open database, as a backup would take. */
static void
backup (Desk       *d,
        const char *to)
{
  g_autofree char *sql = g_strdup_printf ("VACUUM INTO '%s'", to);

  g_unlink (to);
  g_assert_cmpint (sqlite3_exec (pd_store_get_db (d->store), sql, NULL, NULL, NULL), ==, SQLITE_OK);
}

/* The closed database replaced by the copy. */
static void
restore (Desk       *d,
         const char *from)
{
  g_autofree char *wal = g_strconcat (d->path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (d->path, "-shm", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  g_unlink (wal);
  g_unlink (shm);
  g_assert_true (g_file_get_contents (from, &data, &len, NULL));
  g_assert_true (g_file_set_contents (d->path, data, len, NULL));
}

static void
fetch_anchor (Sandbox     *sb,
              PdAuditHead *anchor)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdFhirClient) client = pd_fhir_client_new (sb->config, &error);
  gboolean found = FALSE;

  g_assert_no_error (error);
  g_assert_true (pd_audit_anchor_fetch (client, sb->config->fixmedins_code, anchor, &found, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (found);
}

static void
test_sync_anchors (void)
{
  g_autofree char *state = new_state ("anchor");
  g_autofree char *copy = g_build_filename (state_root, "anchor-old.db", NULL);
  Sandbox sb;
  Desk d = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  g_auto(PdAuditHead) head = { 0 };
  g_auto(PdAuditHead) anchor = { 0 };
  g_auto(PdAuditHead) newer = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;
  gint64 old_seq;

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", NULL);
  desk_open (&d, &sb, "anchor.db");
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'AuditEvent'"), ==, 0);
  sync_ok (&d, &s);
  g_assert_null (s.anchor_warning);
  g_assert_true (pd_audit_head_read (d.store, &head, &error));
  g_assert_no_error (error);
  g_assert_cmpint (head.seq, >, 0);
  g_assert_cmpint (s.anchored_seq, ==, head.seq);

  /* What the sandbox keeps, read in its own words. */
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'AuditEvent'"), ==, 1);
  body = query_text (state, "SELECT body FROM fhir_resource WHERE resource_type = 'AuditEvent'");
  {
    g_autoptr(JsonObject) event = parse_object (body);
    JsonObject *entity = json_array_get_object_element (json_object_get_array_member (event, "entity"), 0);
    JsonArray *details = json_object_get_array_member (entity, "detail");
    g_autofree char *name = g_strconcat ("audit-head:", sb.config->fixmedins_code, NULL);
    g_autofree char *seq = g_strdup_printf ("%" G_GINT64_FORMAT, head.seq);
    g_autofree char *hash = g_malloc (2 * PD_KEY_SIZE + 1);
    g_autofree char *sig = g_base64_encode ((const guchar *) head.signature, strlen (head.signature));

    for (guint i = 0; i < PD_KEY_SIZE; i++)
      g_snprintf (hash + 2 * i, 3, "%02x", head.mac[i]);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (event, "type"), "system"), ==, "urn:pharmdesk:audit");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (event, "type"), "code"), ==, "head");
    g_assert_cmpstr (json_object_get_string_member (event, "recorded"), ==, head.signed_at);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (json_object_get_object_member (event, "source"), "observer"), "display"),
                     ==, sb.config->fixmedins_name);
    g_assert_cmpstr (json_object_get_string_member (entity, "name"), ==, name);
    g_assert_cmpuint (json_array_get_length (details), ==, 3);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (details, 0), "type"), ==, "seq");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (details, 0), "valueString"), ==, seq);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (details, 1), "type"), ==, "hash");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (details, 1), "valueString"), ==, hash);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (details, 2), "type"), ==, "signature");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (details, 2), "valueBase64Binary"), ==, sig);
  }

  /* Read back, it is the head, and the trail holds it. */
  fetch_anchor (&sb, &anchor);
  g_assert_cmpint (anchor.seq, ==, head.seq);
  g_assert_cmpmem (anchor.mac, PD_KEY_SIZE, head.mac, PD_KEY_SIZE);
  g_assert_cmpstr (anchor.signed_at, ==, head.signed_at);
  g_assert_cmpstr (anchor.signature, ==, head.signature);
  g_assert_true (pd_audit_anchor_check (d.store, &anchor, &error));
  g_assert_no_error (error);
  old_seq = head.seq;

  /* A backup now; then more work (a sign-in is audited) and a sync. */
  backup (&d, copy);
  g_clear_object (&d.session);
  d.session = pd_session_sign_in (d.store, "ph", "pharmacist-password", &error);
  g_assert_no_error (error);
  desk_connect (&d, &sb);
  sync_ok (&d, &s);
  g_assert_null (s.anchor_warning);
  g_assert_cmpint (s.anchored_seq, >, old_seq);
  fetch_anchor (&sb, &newer);
  g_assert_cmpint (newer.seq, ==, s.anchored_seq);
  g_assert_true (pd_audit_anchor_check (d.store, &newer, &error));
  g_assert_no_error (error);

  /* The older copy restored: a rollback. */
  desk_close (&d);
  restore (&d, copy);
  d.store = pd_store_open (d.path, &error);
  g_assert_no_error (error);
  g_assert_false (pd_audit_anchor_check (d.store, &newer, &error));
  g_assert_error (error, PD_AUDIT_ANCHOR_ERROR, PD_AUDIT_ANCHOR_ERROR_ROLLED_BACK);
  g_test_message ("%s", error->message);
  {
    g_autofree char *row = g_strdup_printf ("%" G_GINT64_FORMAT, newer.seq);

    g_assert_nonnull (strstr (error->message, row));
    g_assert_nonnull (strstr (error->message, newer.signed_at));
  }
  g_clear_error (&error);
  /* The older anchor still matches that copy. */
  g_assert_true (pd_audit_anchor_check (d.store, &anchor, &error));
  g_assert_no_error (error);

  /* An anchor whose MAC is not the trail's row. */
  {
    g_auto(PdAuditHead) forged = { anchor.seq, { 0 }, g_strdup (anchor.signed_at), g_strdup (anchor.signature), 0 };

    memcpy (forged.mac, anchor.mac, PD_KEY_SIZE);
    forged.mac[0] ^= 1;
    g_assert_false (pd_audit_anchor_check (d.store, &forged, &error));
    g_assert_error (error, PD_AUDIT_ANCHOR_ERROR, PD_AUDIT_ANCHOR_ERROR_UNSIGNED);
    g_clear_error (&error);
  }
  desk_close (&d);
  g_clear_pointer (&d.path, g_free);
  sandbox_stop (&sb, SIGTERM);
}

static const char *good_event =
  "{\"resourceType\":\"AuditEvent\",\"type\":{\"system\":\"urn:pharmdesk:audit\",\"code\":\"head\"},"
  "\"recorded\":\"2025-01-02T03:04:05.000+08:00\",\"source\":{\"observer\":{\"display\":\"X\"}},"
  "\"agent\":[{\"who\":{\"display\":\"X\"},\"requestor\":true}],"
  "\"entity\":[{\"name\":\"audit-head:P11010500123\",\"detail\":["
  "{\"type\":\"seq\",\"valueString\":\"%s\"},{\"type\":\"hash\",\"valueString\":\"%s\"},"
  "{\"type\":\"signature\",\"%s\":\"ZXlKaGJHY2lPaUpGWkVSVFFTSjkuLmFiYw==\"}]}]}";

static void
test_malformed_refused (void)
{
  g_autofree char *state = new_state ("anchor-malformed");
  Sandbox sb;
  g_autofree char *token = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *url = NULL;
  const char *headers[3] = { "Authorization", NULL, NULL };
  struct { const char *seq, *hash, *member; guint status; } cases[] = {
    { "12", "00ff", "valueBase64Binary", 201 },
    { "twelve", "00ff", "valueBase64Binary", 400 },
    { "12", "not-hex", "valueBase64Binary", 400 },
    { "12", "00ff", "valueString", 400 },
  };

  sandbox_start (&sb, state, "--no-demo", NULL);
  token = token_for (&sb, sb.config->hospital_client_secret);
  auth = g_strdup_printf ("Bearer %s", token);
  headers[1] = auth;
  url = g_strconcat (sb.config->hospital_url, "/AuditEvent", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *body = g_strdup_printf (good_event, cases[i].seq, cases[i].hash, cases[i].member);
      g_autofree char *reply = NULL;

      g_assert_cmpuint (request ("POST", url, "application/fhir+json", body, headers, &reply), ==, cases[i].status);
      if (cases[i].status == 400)
        g_assert_nonnull (strstr (reply, "OperationOutcome"));
    }
  {
    g_autofree char *reply = NULL;

    g_assert_cmpuint (request ("POST", url, "application/fhir+json",
                               "{\"resourceType\":\"AuditEvent\",\"type\":{\"system\":\"urn:pharmdesk:audit\",\"code\":\"head\"}}",
                               headers, &reply), ==, 400);
  }
  g_assert_cmpint (count_rows (state, "SELECT count(*) FROM fhir_resource WHERE resource_type = 'AuditEvent'"), ==, 1);
  sandbox_stop (&sb, SIGTERM);
}

/* --- pharmdesk-cli audit verify --against-anchor ------------------------------------------ */

static int
cli (char      **out,
     char      **err,
     const char *first,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) p = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, (char *) g_getenv ("PHARMDESK_CLI"));
  va_start (ap, first);
  for (arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  p = g_subprocess_newv ((const char * const *) argv->pdata,
                         G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, out, err, &error));
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (p);
}

static void
test_cli_rollback (void)
{
  g_autofree char *state = new_state ("anchor-cli");
  g_autofree char *copy = g_build_filename (state_root, "anchor-cli-old.db", NULL);
  g_autofree char *pw = g_build_filename (state_root, "anchor-cli-pw", NULL);
  g_autofree char *ini = NULL;
  g_autofree char *out = NULL, *err = NULL;
  Sandbox sb;
  Desk d = { 0 };
  g_auto(PdSyncStats) s = { 0 };
  g_autoptr(JsonObject) o = NULL;
  JsonObject *anchor;
  g_autoptr(GError) error = NULL;
  int status;

  sandbox_start (&sb, state, "--control", "--arrival-every", "0", NULL);
  ini = g_build_filename (state, "client.ini", NULL);
  g_assert_true (g_file_set_contents (pw, "admin-password\n", -1, NULL));
  desk_open (&d, &sb, "anchor-cli.db");
  sync_ok (&d, &s);
  backup (&d, copy);
  /* More work than the CLI's own sign-in adds to the restored copy. */
  for (guint i = 0; i < 4; i++)
    {
      g_clear_object (&d.session);
      d.session = pd_session_sign_in (d.store, "ph", "pharmacist-password", &error);
      g_assert_no_error (error);
    }
  desk_connect (&d, &sb);
  sync_ok (&d, &s);
  desk_close (&d);

  /* The current database agrees with the anchor. */
  status = cli (&out, &err, "audit", "verify", "--against-anchor", "--config", ini, "--db", d.path, "--user", "admin",
                "--password-file", pw, "--json", NULL);
  g_assert_cmpint (status, ==, 0);
  o = parse_object (out);
  g_assert_nonnull (o);
  g_assert_true (json_object_get_boolean_member (o, "ok"));
  anchor = json_object_get_object_member (o, "anchor");
  g_assert_true (json_object_get_boolean_member (anchor, "checked"));
  g_assert_true (json_object_get_boolean_member (anchor, "ok"));
  g_assert_cmpint (json_object_get_int_member (anchor, "seq"), ==, s.anchored_seq);
  g_clear_pointer (&o, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The older copy: exit 1 and the rollback in words. */
  restore (&d, copy);
  status = cli (&out, &err, "audit", "verify", "--against-anchor", "--config", ini, "--db", d.path, "--user", "admin",
                "--password-file", pw, "--json", NULL);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "Rolled back"));
  o = parse_object (out);
  g_assert_nonnull (o);
  anchor = json_object_get_object_member (o, "anchor");
  g_assert_true (json_object_get_boolean_member (anchor, "checked"));
  g_assert_false (json_object_get_boolean_member (anchor, "ok"));
  g_assert_nonnull (strstr (json_object_get_string_member (anchor, "problem"), "Rolled back"));
  g_clear_pointer (&o, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Without a hospital link: the local checks, and the anchor not checked. */
  status = cli (&out, &err, "audit", "verify", "--against-anchor", "--db", d.path, "--user", "admin",
                "--password-file", pw, "--json", NULL);
  g_assert_cmpint (status, ==, 0);
  o = parse_object (out);
  g_assert_nonnull (o);
  anchor = json_object_get_object_member (o, "anchor");
  g_assert_false (json_object_get_boolean_member (anchor, "checked"));
  g_assert_nonnull (strstr (json_object_get_string_member (anchor, "reason"), "no hospital link"));
  g_clear_pointer (&o, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Not asked. */
  status = cli (&out, &err, "audit", "verify", "--config", ini, "--db", d.path, "--user", "admin",
                "--password-file", pw, "--json", NULL);
  g_assert_cmpint (status, ==, 0);
  o = parse_object (out);
  anchor = json_object_get_object_member (o, "anchor");
  g_assert_false (json_object_get_boolean_member (anchor, "checked"));
  g_assert_nonnull (strstr (json_object_get_string_member (anchor, "reason"), "--against-anchor"));
  g_clear_pointer (&d.path, g_free);
  sandbox_stop (&sb, SIGTERM);
}

int
main (int    argc,
      char **argv)
{
  int rc;

  g_setenv ("PHARMDESK_KDF", "fast-insecure", TRUE);
  g_test_init (&argc, &argv, NULL);
  harness_init ();
  g_test_add_func ("/anchor/sync-anchors", test_sync_anchors);
  g_test_add_func ("/anchor/malformed-refused", test_malformed_refused);
  g_test_add_func ("/anchor/cli-rollback", test_cli_rollback);
  rc = g_test_run ();
  harness_done ();
  return rc;
}
