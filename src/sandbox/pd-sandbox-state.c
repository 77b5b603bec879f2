/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-sandbox-state"

#include "config.h"

#include <gcrypt.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "pd-sandbox.h"

/* The sandbox's own database: one table of people shared by the hospital
 * and the insurance centre, then each service's tables. */
static const PdMigration sandbox_migrations[] = {
  {
    "people, credentials, tokens, hospital resources, insurance messages, courier orders",
    "CREATE TABLE credential ("
    "  kind TEXT PRIMARY KEY CHECK (kind IN ('hospital', 'insurance', 'courier')),"
    "  id TEXT NOT NULL,"
    "  secret TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE person ("
    "  id INTEGER PRIMARY KEY,"
    "  patient_id TEXT NOT NULL UNIQUE,"           /* FHIR Patient id at the hospital */
    "  psn_no TEXT NOT NULL UNIQUE,"               /* personal number at the insurance centre */
    "  certno TEXT NOT NULL UNIQUE,"               /* resident ID number, both sides */
    "  name TEXT NOT NULL,"
    "  gender TEXT NOT NULL CHECK (gender IN ('male', 'female')),"
    "  birth_date TEXT NOT NULL,"
    "  phone TEXT NOT NULL,"
    "  insutype TEXT NOT NULL CHECK (insutype IN ('310', '390')),"
    "  insuplc_admdvs TEXT NOT NULL,"
    "  emp_name TEXT,"
    "  balance_fen INTEGER NOT NULL DEFAULT 0 CHECK (balance_fen >= 0),"
    "  pregnant INTEGER NOT NULL DEFAULT 0,"
    "  lactating INTEGER NOT NULL DEFAULT 0,"
    "  weight_g INTEGER"
    ");"
    "CREATE TABLE oauth_token ("
    "  token TEXT PRIMARY KEY,"
    "  client_id TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL"               /* Unix seconds by the sandbox clock */
    ") WITHOUT ROWID;"
    "CREATE TABLE fhir_resource ("
    "  resource_type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  version_id INTEGER NOT NULL,"
    "  last_updated_ms INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"
    "  PRIMARY KEY (resource_type, id)"
    ");"
    "CREATE INDEX fhir_resource_updated ON fhir_resource (resource_type, last_updated_ms, id);"
    "CREATE TABLE fhir_clock (id INTEGER PRIMARY KEY CHECK (id = 1), last_ms INTEGER NOT NULL);"
    "INSERT INTO fhir_clock VALUES (1, 0);"
    "CREATE TABLE tif_nonce ("
    "  nonce TEXT PRIMARY KEY,"
    "  seen_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE nhsa_message ("
    "  msgid TEXT PRIMARY KEY,"
    "  infno TEXT NOT NULL,"
    "  received_at TEXT NOT NULL,"
    "  response TEXT"
    ") WITHOUT ROWID;"
    "CREATE TABLE nhsa_serial (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);"
    "INSERT INTO nhsa_serial VALUES (1, 0);"
    "CREATE TABLE nhsa_sign_in ("
    "  sign_no TEXT PRIMARY KEY,"
    "  opter_no TEXT NOT NULL,"
    "  sign_time TEXT NOT NULL,"
    "  signed_out_at TEXT"
    ") WITHOUT ROWID;"
    "CREATE TABLE courier_order ("
    "  origin_id TEXT PRIMARY KEY,"
    "  order_no TEXT NOT NULL UNIQUE,"
    "  status_code INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"
    "  created_at TEXT NOT NULL"
    ") WITHOUT ROWID;"
  },
  {
    "FHIR version history (vread, and what a client wrote, version by version)",
    "CREATE TABLE fhir_history ("
    "  resource_type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  version_id INTEGER NOT NULL,"
    "  last_updated_ms INTEGER NOT NULL,"
    "  body TEXT NOT NULL,"
    "  PRIMARY KEY (resource_type, id, version_id)"
    ") WITHOUT ROWID;"
    "INSERT INTO fhir_history SELECT resource_type, id, version_id, last_updated_ms, body FROM fhir_resource;"
  },
  {
    "FHIR search index, dispensed prescriptions, hospital counters",
    /* One row per (search parameter, value) of a resource's current
     * version, so that a search is an index lookup even after a bulk load
     * of 100,000 prescriptions. */
    "CREATE TABLE fhir_search ("
    "  resource_type TEXT NOT NULL,"
    "  param TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  PRIMARY KEY (resource_type, param, value, id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX fhir_search_owner ON fhir_search (resource_type, id);"
    "INSERT OR IGNORE INTO fhir_search SELECT r.resource_type, 'target', json_extract (t.value, '$.reference'), r.id"
    "  FROM fhir_resource r, json_each (r.body, '$.target') t"
    "  WHERE r.resource_type = 'Provenance' AND json_extract (t.value, '$.reference') IS NOT NULL;"
    "INSERT OR IGNORE INTO fhir_search SELECT resource_type, 'patient', json_extract (body, '$.subject.reference'), id"
    "  FROM fhir_resource WHERE resource_type IN ('MedicationRequest', 'Condition', 'Observation')"
    "  AND json_extract (body, '$.subject.reference') IS NOT NULL;"
    "INSERT OR IGNORE INTO fhir_search SELECT resource_type, 'patient', json_extract (body, '$.patient.reference'), id"
    "  FROM fhir_resource WHERE resource_type = 'AllergyIntolerance' AND json_extract (body, '$.patient.reference') IS NOT NULL;"
    "CREATE TABLE rx_dispense ("
    "  prescription TEXT PRIMARY KEY,"             /* groupIdentifier system|value */
    "  dispense_id TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE rx_patient_facts (patient_id TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TABLE hospital_counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO hospital_counter VALUES ('rx', 0), ('resource', 0), ('demo', 0), ('next_arrival_ms', 0);"
  },
  {
    "dispenses by group (hospital.md's Dispense), a counter of issued traceability codes",
    /* A prescription's fills are its MedicationDispenses, found through
     * the search index; the old one-dispense-per-prescription table goes. */
    "DROP TABLE rx_dispense;"
    "INSERT INTO hospital_counter VALUES ('trace', 0);"
  },
  {
    "the insurance centre's ledger: certificates and status, the year's deductible and cap, settlements, reversals, sold codes",
    /* A person is found by an e-voucher QR token (01), the ID number (02)
     * or a social-security card number (03); insu_status 1 normal, 2
     * suspended (暂停参保). */
    "ALTER TABLE person ADD COLUMN qr_token TEXT;"
    "ALTER TABLE person ADD COLUMN card_no TEXT;"
    "ALTER TABLE person ADD COLUMN insu_status TEXT NOT NULL DEFAULT '1' CHECK (insu_status IN ('1', '2'));"
    "UPDATE person SET qr_token = printf ('QR110105%08d', id), card_no = printf ('K%08d', 10000000 + id);"
    "CREATE UNIQUE INDEX person_qr_token ON person (qr_token);"
    "CREATE UNIQUE INDEX person_card_no ON person (card_no);"
    /* What a person used of this calendar year's deductible and pooled cap. */
    "CREATE TABLE nhsa_year ("
    "  psn_no TEXT NOT NULL,"
    "  year INTEGER NOT NULL,"
    "  deductible_fen INTEGER NOT NULL DEFAULT 0 CHECK (deductible_fen >= 0),"
    "  pool_fen INTEGER NOT NULL DEFAULT 0 CHECK (pool_fen >= 0),"
    "  PRIMARY KEY (psn_no, year)"
    ") WITHOUT ROWID;"
    /* A settlement (2102) or a refund settlement (2103, refd_setl_flag 1,
     * positive amounts, cancels naming the original); state 1 settled,
     * 2 cancelled, 3 reversed (2601). setlinfo is the answer as given. */
    "CREATE TABLE nhsa_settlement ("
    "  setl_id TEXT PRIMARY KEY,"
    "  mdtrt_id TEXT NOT NULL,"
    "  msgid TEXT NOT NULL UNIQUE,"
    "  psn_no TEXT NOT NULL,"
    "  insutype TEXT NOT NULL,"
    "  year INTEGER NOT NULL,"
    "  setl_time TEXT NOT NULL,"
    "  refd_setl_flag INTEGER NOT NULL CHECK (refd_setl_flag IN (0, 1)),"
    "  cancels TEXT REFERENCES nhsa_settlement (setl_id),"
    "  state INTEGER NOT NULL CHECK (state IN (1, 2, 3)),"
    "  medfee_fen INTEGER NOT NULL,"
    "  dedc_fen INTEGER NOT NULL,"
    "  hifp_fen INTEGER NOT NULL,"
    "  acct_fen INTEGER NOT NULL,"
    "  cash_fen INTEGER NOT NULL,"
    "  setlinfo TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX nhsa_settlement_cancels ON nhsa_settlement (cancels);"
    "CREATE TABLE nhsa_settlement_line ("
    "  setl_id TEXT NOT NULL REFERENCES nhsa_settlement (setl_id),"
    "  feedetl_sn TEXT NOT NULL,"
    "  med_list_codg TEXT NOT NULL,"
    "  cnt_e4 INTEGER NOT NULL,"
    "  pric_e6 INTEGER NOT NULL,"
    "  fee_fen INTEGER NOT NULL,"
    "  chrgitm_lv TEXT NOT NULL,"
    "  fulamt_fen INTEGER NOT NULL,"
    "  preselfpay_fen INTEGER NOT NULL,"
    "  inscp_fen INTEGER NOT NULL,"
    "  PRIMARY KEY (setl_id, feedetl_sn)"
    ") WITHOUT ROWID;"
    /* 2601: what it named (omsgid) and what became of it: undone (the
     * original was committed), nothing (refused or already undone), or a
     * tombstone (never seen: the original is refused if it comes). */
    "CREATE TABLE nhsa_reversal ("
    "  omsgid TEXT PRIMARY KEY,"
    "  oinfno TEXT NOT NULL,"
    "  msgid TEXT NOT NULL,"
    "  outcome TEXT NOT NULL CHECK (outcome IN ('undone', 'nothing', 'tombstone')),"
    "  at TEXT NOT NULL"
    ") WITHOUT ROWID;"
    /* Traceability codes per sales upload (3505): sale is the setl_id, or
     * for a self-paid sale its rtal_docno (else the upload's msgid);
     * returned_by is the 3506 that took the code back. */
    "CREATE TABLE nhsa_sold_code ("
    "  code TEXT NOT NULL,"
    "  msgid TEXT NOT NULL,"
    "  sale TEXT NOT NULL,"
    "  trdn_flag INTEGER NOT NULL,"
    "  returned_by TEXT,"
    "  PRIMARY KEY (code, msgid)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER person_certificates AFTER INSERT ON person WHEN NEW.qr_token IS NULL BEGIN"
    "  UPDATE person SET qr_token = printf ('QR110105%08d', NEW.id), card_no = printf ('K%08d', 10000000 + NEW.id)"
    "  WHERE id = NEW.id;"
    "END;"
    "CREATE INDEX nhsa_sold_code_returned ON nhsa_sold_code (returned_by);"
    /* Each sales upload (3505) or return (3506) that committed. */
    "CREATE TABLE nhsa_upload ("
    "  msgid TEXT PRIMARY KEY,"
    "  infno TEXT NOT NULL CHECK (infno IN ('3505', '3506')),"
    "  sale TEXT NOT NULL,"
    "  med_list_codg TEXT NOT NULL,"
    "  reversed INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE TABLE nhsa_counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO nhsa_counter VALUES ('setl', 0), ('mdtrt', 0);"
  },
};

const PdSchema *
pd_sandbox_schema (void)
{
  static const PdSchema schema = {
    "sandbox",
    0x50485342,  /* "PHSB" */
    sandbox_migrations,
    G_N_ELEMENTS (sandbox_migrations),
  };

  return &schema;
}

char *
pd_sandbox_random_hex (guint bytes)
{
  g_autofree guint8 *buf = g_malloc (bytes);
  GString *s = g_string_new (NULL);

  gcry_randomize (buf, bytes, GCRY_STRONG_RANDOM);
  for (guint i = 0; i < bytes; i++)
    g_string_append_printf (s, "%02x", buf[i]);
  return g_string_free (s, FALSE);
}

char *
pd_sandbox_now_iso (PdSandbox *sandbox)
{
  return pd_time_format_iso (pd_clock_now_us (sandbox->clock));
}

/* Loads each service's credentials, or makes fresh ones on first start. */
static gboolean
load_credential (PdSandbox   *sandbox,
                 const char  *kind,
                 const char  *default_id,
                 char       **id,
                 char       **secret,
                 GError     **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (sandbox->store, "SELECT id, secret FROM credential WHERE kind = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      *id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      *secret = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      sqlite3_reset (stmt);
      return TRUE;
    }
  sqlite3_reset (stmt);
  {
    /* Issued ids are not secrets but still fresh per sandbox, so that a
     * client.ini of one sandbox never works against another. */
    g_autofree char *tail = pd_sandbox_random_hex (4);

    *id = default_id != NULL ? g_strconcat (default_id, "-", tail, NULL) : pd_sandbox_random_hex (8);
  }
  *secret = pd_sandbox_random_hex (24);
  stmt = pd_store_prepare (sandbox->store, "INSERT INTO credential (kind, id, secret) VALUES (?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, *id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, *secret, -1, SQLITE_STATIC);
  return pd_store_step_done (sandbox->store, stmt, error);
}

static gboolean
count_people (PdSandbox *sandbox,
              gint64    *n)
{
  sqlite3_stmt *stmt = pd_store_prepare (sandbox->store, "SELECT count(*) FROM person", NULL);

  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    return FALSE;
  *n = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return TRUE;
}

static char id_check_digit (const char *first17);

/* The insurance centre's demo persons: fixed, whatever the seed, so that
 * a demo, the README and the tests can name them by QR token, ID number
 * or card; the last one's insurance is suspended. Made on every start
 * when missing (a state made before them gets them too). */
static const struct {
  const char *patient_id, *psn_no, *first17, *name, *gender, *birth, *insutype, *emp_name, *qr_token, *card_no;
  gint64      balance_fen;
  const char *status;
} insured[] = {
  { "pat-insured-1", "1100000020000001", "11010119780315001", "张建华", "male", "1978-03-15", "310", "示例科技有限公司",
    "QR11010199000001", "K90000001", 120000, "1" },
  { "pat-insured-2", "1100000020000002", "11010119650902002", "李秀英", "female", "1965-09-02", "310", "示例科技有限公司（退休）",
    "QR11010199000002", "K90000002", 345678, "1" },
  { "pat-insured-3", "1100000020000003", "11010119901120003", "王志强", "male", "1990-11-20", "310", "示例物流有限公司",
    "QR11010199000003", "K90000003", 0, "1" },
  { "pat-insured-4", "1100000020000004", "11010119520608004", "陈桂兰", "female", "1952-06-08", "390", NULL,
    "QR11010199000004", "K90000004", 0, "1" },
  { "pat-insured-5", "1100000020000005", "11010120160412005", "刘子轩", "male", "2016-04-12", "390", NULL,
    "QR11010199000005", "K90000005", 0, "1" },
  { "pat-insured-6", "1100000020000006", "11010119850130006", "赵敏", "female", "1985-01-30", "310", "示例科技有限公司",
    "QR11010199000006", "K90000006", 80000, "2" },
};

static gboolean
write_insured (PdStore  *store,
               gpointer  user_data,
               GError  **error)
{
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "INSERT INTO person (patient_id, psn_no, certno, name, gender, birth_date, phone, insutype, insuplc_admdvs,"
    " emp_name, balance_fen, weight_g, qr_token, card_no, insu_status)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '110101', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", error);

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (insured); i++)
    {
      char certno[19];
      g_autofree char *phone = g_strdup_printf ("1390000000%u", i + 1);

      g_snprintf (certno, sizeof certno, "%s%c", insured[i].first17, id_check_digit (insured[i].first17));
      sqlite3_bind_text (stmt, 1, insured[i].patient_id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, insured[i].psn_no, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, certno, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, insured[i].name, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 5, insured[i].gender, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, insured[i].birth, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 7, phone, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 8, insured[i].insutype, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 9, insured[i].emp_name, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 10, insured[i].balance_fen);
      sqlite3_bind_int (stmt, 11, g_str_equal (insured[i].birth, "2016-04-12") ? 32000 : 62000);
      sqlite3_bind_text (stmt, 12, insured[i].qr_token, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 13, insured[i].card_no, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 14, insured[i].status, -1, SQLITE_STATIC);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
      sqlite3_clear_bindings (stmt);
    }
  return TRUE;
}

gboolean
pd_sandbox_state_open (PdSandbox *sandbox,
                       GError   **error)
{
  g_autofree char *path = g_build_filename (sandbox->state_dir, "sandbox.db", NULL);
  gint64 people = 0;

  if (g_mkdir_with_parents (sandbox->state_dir, 0700) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   _("Cannot create the state folder “%s”"), sandbox->state_dir);
      return FALSE;
    }
  sandbox->store = pd_store_open_schema (path, pd_sandbox_schema (), PD_STORE_LATEST, error);
  if (sandbox->store == NULL)
    return FALSE;
  if (!load_credential (sandbox, "hospital", "pharmacy", &sandbox->hospital_client_id, &sandbox->hospital_client_secret, error)
      || !load_credential (sandbox, "insurance", "pharmacy", &sandbox->insurance_paasid, &sandbox->insurance_token, error)
      || !load_credential (sandbox, "courier", NULL, &sandbox->courier_app_key, &sandbox->courier_app_secret, error))
    return FALSE;
  if (!count_people (sandbox, &people))
    return FALSE;
  if (people == 0 && !pd_sandbox_seed_people (sandbox, PD_SANDBOX_DEMO_PEOPLE, error))
    return FALSE;
  return pd_store_write (sandbox->store, write_insured, NULL, error);
}

/* --- demo people ----------------------------------------------------------- */

static const char *surnames[] = { "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "欧阳", "司马" };
static const char *given_male[] = { "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "建国", "志强", "浩然", "子轩" };
static const char *given_female[] = { "芳", "娜", "敏", "静", "丽", "艳", "秀英", "桂兰", "雨萱", "欣怡", "婷", "玉兰" };

/* GB 11643 check digit (ISO 7064 MOD 11-2). */
static char
id_check_digit (const char *first17)
{
  static const int weights[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
  static const char codes[] = "10X98765432";
  int sum = 0;

  for (int i = 0; i < 17; i++)
    sum += (first17[i] - '0') * weights[i];
  return codes[sum % 11];
}

typedef struct {
  guint    count;
  GRand   *rand;
  gint64   first;
  gint64   now_us;
} SeedJob;

/* The first demo people are fixed kinds, so that every population rule
 * and both insurance types have someone whatever the seed; names, birth
 * days and balances come from the seed. */
typedef struct {
  int         min_age, max_age;   /* whole years, inclusive */
  char        sex;                /* 'm', 'f' or 0 for either */
  const char *insutype;           /* 310 employees, 390 residents */
  gboolean    pregnant, lactating;
  gboolean    no_balance;         /* an employee whose account is empty */
} Kind;

static const Kind demo_kinds[] = {
  { 0, 0, 0, "390" },                         /* infant: dosing per kg */
  { 2, 5, 0, "390" },                         /* small child */
  { 6, 12, 0, "390" },                        /* school child */
  { 24, 36, 'f', "310", TRUE, FALSE },        /* pregnant employee */
  { 24, 36, 'f', "390", FALSE, TRUE },        /* breastfeeding resident */
  { 70, 88, 'm', "310" },                     /* elderly retired employee */
  { 65, 85, 'f', "390" },                     /* elderly resident */
  { 30, 55, 'm', "310" },                     /* employee */
  { 25, 50, 'f', "310" },                     /* employee */
  { 14, 17, 0, "390" },                       /* adolescent */
  { 22, 60, 'm', "390" },                     /* adult resident */
  { 35, 59, 0, "310", FALSE, FALSE, TRUE },   /* employee, empty account */
};

/* After the fixed kinds: ages spread over every population. */
static void
kind_for (guint  i,
          GRand *rand,
          Kind  *kind)
{
  static const int bands[6][2] = { { 1, 5 }, { 6, 13 }, { 22, 44 }, { 22, 44 }, { 45, 64 }, { 65, 89 } };

  if (i < G_N_ELEMENTS (demo_kinds))
    {
      *kind = demo_kinds[i];
      return;
    }
  memset (kind, 0, sizeof *kind);
  kind->min_age = bands[i % 6][0];
  kind->max_age = bands[i % 6][1];
  kind->insutype = kind->min_age >= 22 && kind->max_age < 65 && g_rand_int_range (rand, 0, 3) != 0 ? "310" : "390";
}

static gboolean
write_people (PdStore  *store,
              gpointer  user_data,
              GError  **error)
{
  SeedJob *job = user_data;
  sqlite3_stmt *stmt = pd_store_prepare (store,
    "INSERT INTO person (patient_id, psn_no, certno, name, gender, birth_date, phone, insutype,"
    " insuplc_admdvs, emp_name, balance_fen, pregnant, lactating, weight_g)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (job->now_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) today = g_date_time_to_timezone (utc, pd_china_time_zone ());

  if (stmt == NULL)
    return FALSE;
  for (guint k = 0; k < job->count; k++)
    {
      guint i = (guint) job->first + k;
      Kind kind;
      gboolean male, employee;
      int age;
      char first17[18], certno[19];
      g_autoptr(GDateTime) years_ago = NULL;
      g_autoptr(GDateTime) born = NULL;
      g_autofree char *name = NULL;
      g_autofree char *patient_id = g_strdup_printf ("pat-%04u", i + 1);
      g_autofree char *psn_no = g_strdup_printf ("11000000%08u", 10000000 + i * 7919 % 10000000);
      g_autofree char *birth = NULL;
      g_autofree char *birth_digits = NULL;
      g_autofree char *phone = NULL;
      int weight_g;

      kind_for (i, job->rand, &kind);
      male = kind.sex == 'm' || (kind.sex == 0 && g_rand_boolean (job->rand));
      employee = g_str_equal (kind.insutype, "310");
      age = g_rand_int_range (job->rand, kind.min_age, kind.max_age + 1);
      /* Exactly `age` whole years old today. */
      years_ago = g_date_time_add_years (today, -age);
      born = g_date_time_add_days (years_ago, -g_rand_int_range (job->rand, 1, 365));
      birth = g_date_time_format (born, "%Y-%m-%d");
      name = g_strconcat (surnames[g_rand_int_range (job->rand, 0, G_N_ELEMENTS (surnames))],
                          male ? given_male[g_rand_int_range (job->rand, 0, G_N_ELEMENTS (given_male))]
                               : given_female[g_rand_int_range (job->rand, 0, G_N_ELEMENTS (given_female))],
                          NULL);
      phone = g_strdup_printf ("13%09u", g_rand_int_range (job->rand, 0, 1000000000));
      weight_g = age < 1 ? 6000 + g_rand_int_range (job->rand, 0, 3000)
               : age < 14 ? 8000 + age * 3000 + g_rand_int_range (job->rand, 0, 4000)
               : 50000 + g_rand_int_range (job->rand, 0, 30000);

      /* Unique by construction, even for a million bulk-loaded people:
       * the area code and the sequence number come from the row number,
       * the sequence number's parity from the sex as GB 11643 wants. */
      birth_digits = g_date_time_format (born, "%Y%m%d");
      g_snprintf (first17, sizeof first17, "%06u%s%03u", 110105 + i / 500, birth_digits, (i % 500) * 2 + (male ? 1 : 0));
      g_snprintf (certno, sizeof certno, "%s%c", first17, id_check_digit (first17));
      sqlite3_bind_text (stmt, 1, patient_id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, psn_no, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, certno, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 4, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 5, male ? "male" : "female", -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 6, birth, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 7, phone, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 8, kind.insutype, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 9, "110105", -1, SQLITE_STATIC);
      if (employee)
        sqlite3_bind_text (stmt, 10, age >= 60 ? "示例科技有限公司（退休）" : "示例科技有限公司", -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 11, employee && !kind.no_balance ? g_rand_int_range (job->rand, 5000, 300000) : 0);
      sqlite3_bind_int (stmt, 12, kind.pregnant);
      sqlite3_bind_int (stmt, 13, kind.lactating);
      sqlite3_bind_int (stmt, 14, weight_g);
      if (!pd_store_step_done (store, stmt, error))
        return FALSE;
      sqlite3_clear_bindings (stmt);
    }
  return TRUE;
}

/* Deterministic from --seed: the same seed gives the same people. */
gboolean
pd_sandbox_seed_people (PdSandbox *sandbox,
                        guint      count,
                        GError   **error)
{
  SeedJob job = { count, NULL, 0, pd_clock_now_us (sandbox->clock) };
  gboolean ok;

  if (!count_people (sandbox, &job.first))
    job.first = 0;
  job.rand = g_rand_new_with_seed ((guint32) (sandbox->seed * 2654435761u + (guint64) job.first));
  ok = pd_store_write (sandbox->store, write_people, &job, error);
  g_rand_free (job.rand);
  return ok;
}

/* DIR/client.ini in cli.md's form, with this start's URLs. */
gboolean
pd_sandbox_write_client_ini (PdSandbox *sandbox,
                             GError   **error)
{
  g_autofree char *path = g_build_filename (sandbox->state_dir, "client.ini", NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *fhir = g_strconcat (sandbox->base_url, "/fhir", NULL);
  g_autofree char *token = g_strconcat (sandbox->base_url, "/oauth/token", NULL);
  g_autofree char *nhsa = g_strconcat (sandbox->base_url, "/nhsa/fsi/api/rsfComIfsService/callService", NULL);
  g_autofree char *courier = g_strconcat (sandbox->base_url, "/courier", NULL);
  g_autofree char *data = NULL;

  g_key_file_set_string (kf, "pharmacy", "fixmedins_code", "P11010500123");
  g_key_file_set_string (kf, "pharmacy", "fixmedins_name", "示例大药房");
  g_key_file_set_string (kf, "pharmacy", "mdtrtarea_admvs", "110105");
  g_key_file_set_string (kf, "hospital", "url", fhir);
  g_key_file_set_string (kf, "hospital", "token_url", token);
  g_key_file_set_string (kf, "hospital", "client_id", sandbox->hospital_client_id);
  g_key_file_set_string (kf, "hospital", "client_secret", sandbox->hospital_client_secret);
  g_key_file_set_string (kf, "insurance", "url", nhsa);
  g_key_file_set_string (kf, "insurance", "paasid", sandbox->insurance_paasid);
  g_key_file_set_string (kf, "insurance", "token", sandbox->insurance_token);
  g_key_file_set_string (kf, "insurance", "terminal", "1");
  g_key_file_set_string (kf, "insurance", "operator", "clerk01");
  g_key_file_set_string (kf, "insurance", "operator_name", "李会计");
  g_key_file_set_string (kf, "courier", "url", courier);
  g_key_file_set_string (kf, "courier", "app_key", sandbox->courier_app_key);
  g_key_file_set_string (kf, "courier", "app_secret", sandbox->courier_app_secret);
  g_key_file_set_string (kf, "courier", "source_id", "73753");
  g_key_file_set_string (kf, "courier", "shop_no", "shop-1");
  data = g_key_file_to_data (kf, NULL, NULL);
  /* Secrets: readable by this user only. */
  if (!g_file_set_contents_full (path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return FALSE;
  return TRUE;
}
