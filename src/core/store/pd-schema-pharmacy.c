/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-schema"

#include "config.h"

#include "pd-store.h"

/* The pharmacy's database. Conventions (docs/architecture.md):
 * - money in integer fen (`_fen`), unit prices in 1/10,000 yuan (`_e4`),
 *   ratios in basis points (`_bp`); never a REAL column;
 * - times as ISO 8601 text with +08:00 from PdClock (`_at`), dates as
 *   YYYY-MM-DD (`_on`);
 * - every row another system or the audit trail names has a `uuid`;
 *   encryption (trust issue) binds ciphertext to `table|column|uuid`;
 * - personal data lives only in BLOB columns ending in `_sealed`.
 * A migration is never edited once released: add the next one. */

static const PdMigration pharmacy_migrations[] = {
  {
    "links, cache, outbox, accounts, audit",
    /* Settings an administrator changes (link addresses, policy), audited. */
    "CREATE TABLE setting ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  updated_by INTEGER REFERENCES account (id)"
    ") WITHOUT ROWID;"

    "CREATE TABLE account ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  display_name TEXT NOT NULL,"
    "  roles TEXT NOT NULL DEFAULT '',"             /* comma-separated role tokens */
    "  password_hash TEXT,"                         /* PHC string with its parameters */
    "  wrapped_data_key BLOB,"
    "  pharmacist_licence TEXT,"
    "  practitioner_ref TEXT,"
    "  insurance_operator TEXT,"
    "  failed_logins INTEGER NOT NULL DEFAULT 0,"
    "  locked_at TEXT,"
    "  created_at TEXT NOT NULL,"
    "  disabled_at TEXT"
    ");"

    /* Sync cursor per link (largest meta.lastUpdated stored, and so on). */
    "CREATE TABLE sync_cursor ("
    "  link TEXT PRIMARY KEY CHECK (link IN ('hospital', 'insurance', 'courier')),"
    "  cursor TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL"
    ") WITHOUT ROWID;"

    /* Server objects as the link last saw them, with a per-row offline
     * state: 0 synced, 1 created here, 2 modified here, 3 deleted here,
     * 4 tombstone (gone on the server). */
    "CREATE TABLE cached_object ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  link TEXT NOT NULL CHECK (link IN ('hospital', 'insurance', 'courier')),"
    "  resource_type TEXT NOT NULL,"
    "  resource_id TEXT NOT NULL,"
    "  version_id TEXT,"
    "  last_updated TEXT,"
    "  offline_state INTEGER NOT NULL DEFAULT 0 CHECK (offline_state BETWEEN 0 AND 4),"
    "  body_sealed BLOB NOT NULL,"
    "  fetched_at TEXT NOT NULL,"
    "  UNIQUE (link, resource_type, resource_id)"
    ");"
    "CREATE INDEX cached_object_pending ON cached_object (offline_state) WHERE offline_state <> 0;"

    /* Durable outbox: a request is stored with its idempotency key before
     * it leaves; its outcome (or its being unknown) is stored after. */
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  link TEXT NOT NULL CHECK (link IN ('hospital', 'insurance', 'courier')),"
    "  operation TEXT NOT NULL,"
    "  idempotency_key TEXT NOT NULL,"
    "  after_id INTEGER REFERENCES outbox (id),"    /* goes out only after this one */
    "  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN "
    "    ('queued', 'sending', 'unknown', 'done', 'refused', 'conflict', 'resolved', 'cancelled')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at TEXT,"
    "  request_sealed BLOB NOT NULL,"
    "  response_sealed BLOB,"
    "  http_status INTEGER,"
    "  error TEXT,"
    "  subject_type TEXT,"
    "  subject_uuid TEXT,"
    "  created_by INTEGER REFERENCES account (id),"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  UNIQUE (link, idempotency_key)"
    ");"
    "CREATE INDEX outbox_open ON outbox (link, id) WHERE state IN ('queued', 'sending', 'unknown');"
    "CREATE INDEX outbox_subject ON outbox (subject_type, subject_uuid);"

    /* Append-only, gap-free, chained by MAC; audit_head moves in the same
     * transaction as each row so that truncation shows. */
    "CREATE TABLE audit_event ("
    "  seq INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  actor_id INTEGER REFERENCES account (id),"
    "  action TEXT NOT NULL,"
    "  object_type TEXT,"
    "  object_uuid TEXT,"
    "  outcome TEXT NOT NULL DEFAULT 'ok',"
    "  detail TEXT,"
    "  mac BLOB NOT NULL"
    ");"
    "CREATE INDEX audit_event_at ON audit_event (at);"
    "CREATE INDEX audit_event_object ON audit_event (object_type, object_uuid);"
    "CREATE TABLE audit_head ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  last_seq INTEGER NOT NULL,"
    "  last_mac BLOB,"
    "  signed_at TEXT,"
    "  signature BLOB"
    ");"
    "INSERT INTO audit_head (id, last_seq) VALUES (1, 0);"
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event"
    "  BEGIN SELECT RAISE (ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event"
    "  BEGIN SELECT RAISE (ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_event_in_sequence BEFORE INSERT ON audit_event"
    "  WHEN NEW.seq <> (SELECT last_seq + 1 FROM audit_head WHERE id = 1)"
    "  BEGIN SELECT RAISE (ABORT, 'audit rows must follow the head without a gap'); END;"
  },
  {
    "prescriptions, review, dispensing, stock, delivery, settlement, reconciliation",
    /* The knowledge base in force and its history (versions are kept). */
    "CREATE TABLE kb_version ("
    "  id INTEGER PRIMARY KEY,"
    "  version TEXT NOT NULL UNIQUE,"
    "  status TEXT NOT NULL,"
    "  reviewed_by TEXT,"
    "  imported_at TEXT NOT NULL,"
    "  imported_by INTEGER REFERENCES account (id),"
    "  active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))"
    ");"
    "CREATE UNIQUE INDEX kb_version_one_active ON kb_version (active) WHERE active = 1;"
    "CREATE TABLE kb_file ("
    "  kb_version_id INTEGER NOT NULL REFERENCES kb_version (id),"
    "  name TEXT NOT NULL,"
    "  content BLOB NOT NULL,"
    "  PRIMARY KEY (kb_version_id, name)"
    ") WITHOUT ROWID;"

    /* One row per prescription (groupIdentifier), with what the queue
     * needs in clear columns; the FHIR bodies stay in cached_object. */
    "CREATE TABLE prescription ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  rx_system TEXT NOT NULL,"
    "  rx_number TEXT NOT NULL,"
    "  task_id TEXT,"
    "  task_version TEXT,"
    "  patient_ref TEXT,"
    "  patient_name_sealed BLOB,"
    "  patient_name_index BLOB,"
    "  patient_surname_index BLOB,"
    "  patient_id_tail_index BLOB,"
    "  prescriber_ref TEXT,"
    "  priority TEXT NOT NULL DEFAULT 'routine' CHECK (priority IN ('routine', 'urgent', 'asap', 'stat')),"
    "  online INTEGER NOT NULL DEFAULT 1 CHECK (online IN (0, 1)),"
    "  authored_at TEXT,"
    "  status TEXT NOT NULL DEFAULT 'requested' CHECK (status IN "
    "    ('requested', 'claimed', 'approved', 'rejected', 'cancelled', 'dispensed', 'conflict')),"
    "  verdict TEXT CHECK (verdict IN ('pass', 'review', 'reject', 'cancelled')),"
    "  has_block INTEGER NOT NULL DEFAULT 0,"
    "  claimed_by TEXT,"
    "  claim_until TEXT,"
    "  last_updated TEXT,"
    "  UNIQUE (rx_system, rx_number)"
    ");"
    "CREATE INDEX prescription_queue ON prescription (status, priority, authored_at, id);"
    "CREATE INDEX prescription_name ON prescription (patient_name_index);"
    "CREATE INDEX prescription_surname ON prescription (patient_surname_index);"
    "CREATE INDEX prescription_id_tail ON prescription (patient_id_tail_index);"
    "CREATE TABLE prescription_line ("
    "  id INTEGER PRIMARY KEY,"
    "  prescription_id INTEGER NOT NULL REFERENCES prescription (id),"
    "  position INTEGER NOT NULL,"
    "  resource_id TEXT NOT NULL,"
    "  version_id TEXT,"
    "  status TEXT NOT NULL,"
    "  drug_code TEXT,"
    "  drug_name TEXT,"
    "  drug_pinyin TEXT,"
    "  UNIQUE (prescription_id, position)"
    ");"
    "CREATE INDEX prescription_line_drug ON prescription_line (drug_code);"
    "CREATE INDEX prescription_line_pinyin ON prescription_line (drug_pinyin);"

    "CREATE TABLE review_decision ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  prescription_id INTEGER NOT NULL REFERENCES prescription (id),"
    "  pharmacist_id INTEGER NOT NULL REFERENCES account (id),"
    "  decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),"
    "  reason TEXT,"
    "  kb_version TEXT NOT NULL,"
    "  record TEXT NOT NULL,"                 /* the canonical review record (JCS) */
    "  jws TEXT NOT NULL,"
    "  decided_at TEXT NOT NULL,"
    "  outbox_id INTEGER REFERENCES outbox (id)"
    ");"
    "CREATE INDEX review_decision_rx ON review_decision (prescription_id);"
    "CREATE TABLE review_finding ("
    "  id INTEGER PRIMARY KEY,"
    "  decision_id INTEGER NOT NULL REFERENCES review_decision (id),"
    "  code TEXT NOT NULL,"
    "  severity TEXT NOT NULL CHECK (severity IN ('block', 'major', 'moderate', 'info')),"
    "  lines TEXT NOT NULL,"                  /* JSON array of line ids */
    "  population TEXT,"
    "  rule TEXT NOT NULL,"
    "  override_action TEXT CHECK (override_action IN ('override', 'acknowledge')),"
    "  override_reason TEXT"
    ");"

    /* Stock: one row per batch of a drug. */
    "CREATE TABLE stock_batch ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  drug_code TEXT NOT NULL,"
    "  lot TEXT NOT NULL,"
    "  manufactured_on TEXT NOT NULL,"
    "  expires_on TEXT NOT NULL,"
    "  boxes_on_hand INTEGER NOT NULL CHECK (boxes_on_hand >= 0),"
    "  unit_price_e4 INTEGER NOT NULL DEFAULT 0 CHECK (unit_price_e4 >= 0),"
    "  received_at TEXT NOT NULL,"
    "  UNIQUE (drug_code, lot),"
    "  CHECK (expires_on > manufactured_on)"
    ");"
    "CREATE INDEX stock_batch_fefo ON stock_batch (drug_code, expires_on) WHERE boxes_on_hand > 0;"

    /* Dispensing: at most one per prescription, so it cannot be filled twice. */
    "CREATE TABLE dispense ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  prescription_id INTEGER NOT NULL UNIQUE REFERENCES prescription (id),"
    "  decision_id INTEGER NOT NULL REFERENCES review_decision (id),"
    "  dispenser_id INTEGER NOT NULL REFERENCES account (id),"
    "  checker_id INTEGER REFERENCES account (id),"
    "  prepared_at TEXT NOT NULL,"
    "  handed_over_at TEXT,"
    "  outbox_id INTEGER REFERENCES outbox (id),"
    "  CHECK (checker_id IS NULL OR checker_id <> dispenser_id)"
    ");"
    "CREATE TABLE dispense_item ("
    "  id INTEGER PRIMARY KEY,"
    "  dispense_id INTEGER NOT NULL REFERENCES dispense (id),"
    "  line_id INTEGER NOT NULL REFERENCES prescription_line (id),"
    "  batch_id INTEGER NOT NULL REFERENCES stock_batch (id),"
    "  units INTEGER NOT NULL CHECK (units > 0),"
    "  boxes INTEGER NOT NULL CHECK (boxes >= 0)"
    ");"
    /* A drug traceability code (药品追溯码) belongs to one box, sold once. */
    "CREATE TABLE trace_code ("
    "  code TEXT PRIMARY KEY,"
    "  dispense_item_id INTEGER REFERENCES dispense_item (id),"
    "  state TEXT NOT NULL CHECK (state IN ('dispensed', 'returned', 'destroyed'))"
    ") WITHOUT ROWID;"

    /* Delivery by a third-party courier. */
    "CREATE TABLE delivery ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  dispense_id INTEGER NOT NULL REFERENCES dispense (id),"
    "  courier TEXT NOT NULL,"
    "  origin_id TEXT NOT NULL UNIQUE,"        /* our idempotency key at the courier */
    "  courier_order_no TEXT,"
    "  status_code INTEGER NOT NULL DEFAULT 0,"
    "  seal_no TEXT,"
    "  cold_chain INTEGER NOT NULL DEFAULT 0 CHECK (cold_chain IN (0, 1)),"
    "  fee_fen INTEGER CHECK (fee_fen >= 0),"
    "  receiver_sealed BLOB,"
    "  transporter_sealed BLOB,"
    "  accepted_at TEXT,"
    "  fetched_at TEXT,"
    "  finished_at TEXT,"
    "  cancelled_at TEXT,"
    "  return_outcome TEXT CHECK (return_outcome IN ('restocked', 'destroyed')),"
    "  return_reason TEXT,"
    "  next_poll_at TEXT,"
    "  created_at TEXT NOT NULL"
    ");"
    "CREATE INDEX delivery_moving ON delivery (next_poll_at) WHERE next_poll_at IS NOT NULL;"
    "CREATE TABLE delivery_event ("
    "  id INTEGER PRIMARY KEY,"
    "  delivery_id INTEGER NOT NULL REFERENCES delivery (id),"
    "  at TEXT NOT NULL,"
    "  status_code INTEGER NOT NULL,"
    "  detail TEXT"
    ");"
    "CREATE TABLE temperature_sample ("
    "  delivery_id INTEGER NOT NULL REFERENCES delivery (id),"
    "  at TEXT NOT NULL,"
    "  centi_celsius INTEGER NOT NULL,"
    "  PRIMARY KEY (delivery_id, at)"
    ") WITHOUT ROWID;"

    /* Insurance: the day's sign-in and the msgid counter kept before sending. */
    "CREATE TABLE insurance_sign_in ("
    "  sign_date TEXT NOT NULL,"
    "  operator TEXT NOT NULL,"
    "  sign_no TEXT NOT NULL,"
    "  signed_in_at TEXT NOT NULL,"
    "  signed_out_at TEXT,"
    "  PRIMARY KEY (sign_date, operator)"
    ") WITHOUT ROWID;"
    "CREATE TABLE insurance_msgid ("
    "  terminal INTEGER PRIMARY KEY CHECK (terminal BETWEEN 0 AND 9),"
    "  last_second TEXT NOT NULL,"            /* yyyyMMddHHmmss, never goes back */
    "  counter INTEGER NOT NULL CHECK (counter BETWEEN 0 AND 999)"
    ");"
    "CREATE TABLE settlement ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('pre', 'settle', 'cancel')),"
    "  msgid TEXT NOT NULL UNIQUE,"
    "  prescription_id INTEGER REFERENCES prescription (id),"
    "  cancels_id INTEGER REFERENCES settlement (id),"
    "  state TEXT NOT NULL CHECK (state IN ('sending', 'settled', 'refused', 'unknown', 'reversed', 'cancelled')),"
    "  setl_id TEXT,"
    "  mdtrt_id TEXT,"
    "  psn_no TEXT,"
    "  person_sealed BLOB,"
    "  insutype TEXT,"
    "  insuplc_admdvs TEXT,"
    "  clr_optins TEXT,"
    "  medfee_sumamt_fen INTEGER,"
    "  fund_pay_sumamt_fen INTEGER,"
    "  acct_pay_fen INTEGER,"
    "  psn_cash_pay_fen INTEGER,"
    "  setlinfo_sealed BLOB,"
    "  setl_time TEXT,"
    "  refd_setl_flag INTEGER NOT NULL DEFAULT 0 CHECK (refd_setl_flag IN (0, 1)),"
    "  operator_id INTEGER REFERENCES account (id),"
    "  outbox_id INTEGER REFERENCES outbox (id),"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL"
    ");"
    "CREATE INDEX settlement_day ON settlement (setl_time);"
    "CREATE UNIQUE INDEX settlement_setl_id ON settlement (setl_id) WHERE setl_id IS NOT NULL;"
    "CREATE TABLE settlement_line ("
    "  id INTEGER PRIMARY KEY,"
    "  settlement_id INTEGER NOT NULL REFERENCES settlement (id),"
    "  feedetl_sn TEXT NOT NULL,"
    "  drug_code TEXT NOT NULL,"
    "  nhsa_code TEXT,"
    "  units INTEGER NOT NULL CHECK (units > 0),"
    "  unit_price_e4 INTEGER NOT NULL CHECK (unit_price_e4 >= 0),"
    "  amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),"
    "  expected_class TEXT CHECK (expected_class IN ('A', 'B', 'C')),"
    "  centre_class TEXT,"
    "  split_pack INTEGER NOT NULL DEFAULT 0 CHECK (split_pack IN (0, 1)),"
    "  UNIQUE (settlement_id, feedetl_sn)"
    ");"
    "CREATE TABLE sales_upload ("
    "  id INTEGER PRIMARY KEY,"
    "  settlement_line_id INTEGER NOT NULL REFERENCES settlement_line (id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('sale', 'return')),"
    "  msgid TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL CHECK (state IN ('sending', 'done', 'refused', 'unknown', 'reversed')),"
    "  outbox_id INTEGER REFERENCES outbox (id)"
    ");"

    /* Reconciliation runs and the differences the clerk walks through. */
    "CREATE TABLE reconciliation_run ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  from_on TEXT NOT NULL,"
    "  to_on TEXT NOT NULL,"
    "  insutype TEXT NOT NULL,"
    "  clr_optins TEXT NOT NULL,"
    "  medfee_sumamt_fen INTEGER NOT NULL,"
    "  fund_pay_sumamt_fen INTEGER NOT NULL,"
    "  acct_pay_fen INTEGER NOT NULL,"
    "  cash_payamt_fen INTEGER NOT NULL,"
    "  settlement_count INTEGER NOT NULL,"
    "  totals_result TEXT,"
    "  file_qury_no TEXT,"
    "  state TEXT NOT NULL CHECK (state IN ('running', 'balanced', 'differences', 'failed')),"
    "  run_by INTEGER REFERENCES account (id),"
    "  run_at TEXT NOT NULL"
    ");"
    "CREATE TABLE reconciliation_difference ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER NOT NULL REFERENCES reconciliation_run (id),"
    "  setl_id TEXT,"
    "  mdtrt_id TEXT,"
    "  msgid TEXT,"
    "  psn_no TEXT,"
    "  stmt_rslt INTEGER NOT NULL CHECK (stmt_rslt IN (1, 2, 3)),"
    "  refd_setl_flag INTEGER NOT NULL DEFAULT 0,"
    "  memo TEXT,"
    "  medfee_sumamt_fen INTEGER,"
    "  fund_pay_sumamt_fen INTEGER,"
    "  acct_pay_fen INTEGER,"
    "  resolution TEXT,"
    "  resolved_by INTEGER REFERENCES account (id),"
    "  resolved_at TEXT"
    ");"
  },
  {
    "trust: recovery key, signing keys, policy",
    /* The data key wrapped by the recovery key printed at the first start. */
    "CREATE TABLE recovery_key ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  verifier TEXT NOT NULL,"
    "  wrapped_data_key BLOB NOT NULL,"
    "  created_at TEXT NOT NULL"
    ");"
    /* The key registry: pharmacists' Ed25519 keys (private half sealed under
     * the key derived from the pharmacist's password) and the pharmacy's
     * key that signs audit heads (sealed under the data key). */
    "CREATE TABLE signing_key ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  owner TEXT NOT NULL CHECK (owner IN ('pharmacist', 'pharmacy')),"
    "  account_id INTEGER REFERENCES account (id),"
    "  public_key BLOB NOT NULL CHECK (length (public_key) = 32),"
    "  private_sealed BLOB NOT NULL,"
    "  valid_from TEXT NOT NULL,"
    "  valid_to TEXT,"
    "  created_at TEXT NOT NULL,"
    "  CHECK ((owner = 'pharmacist') = (account_id IS NOT NULL))"
    ");"
    "CREATE INDEX signing_key_account ON signing_key (account_id);"
    /* What happens before anyone has signed in (a wrong password) cannot be
     * chained without the data key; it waits here and is chained, with its
     * own time, by the next successful sign-in. */
    "CREATE TABLE audit_pending ("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  actor_id INTEGER REFERENCES account (id),"
    "  action TEXT NOT NULL,"
    "  object_type TEXT,"
    "  object_uuid TEXT,"
    "  outcome TEXT NOT NULL,"
    "  detail TEXT"
    ");"
    "ALTER TABLE account ADD COLUMN locked_until TEXT;"
    "ALTER TABLE audit_head ADD COLUMN signed_seq INTEGER;"
    "ALTER TABLE audit_head ADD COLUMN signing_key_id INTEGER REFERENCES signing_key (id);"
  },
  {
    "review queue: order keys, queue indexes, drug vocabulary, tallies",
    /* The queue's order as columns: urgency rank (stat 0, urgent and asap
     * 1, routine 2) and a time that is never NULL, so that a keyset over
     * (queue_rank, queue_time, id) is a total order. */
    "ALTER TABLE prescription ADD COLUMN queue_rank INTEGER GENERATED ALWAYS AS"
    "  (CASE priority WHEN 'stat' THEN 0 WHEN 'routine' THEN 2 ELSE 1 END) VIRTUAL;"
    "ALTER TABLE prescription ADD COLUMN queue_time TEXT GENERATED ALWAYS AS"
    "  (coalesce (authored_at, '')) VIRTUAL;"
    /* One index walks every status in queue order, one each status; the
     * filter columns ride along so that a filter never reads the table. */
    "DROP INDEX prescription_queue;"
    "CREATE INDEX prescription_queue_all ON prescription"
    "  (queue_rank, queue_time, id, status, online, has_block, claimed_by);"
    "CREATE INDEX prescription_queue_status ON prescription"
    "  (status, queue_rank, queue_time, id, online, has_block, claimed_by);"
    "CREATE INDEX prescription_number ON prescription (rx_number);"
    "CREATE INDEX prescription_line_name ON prescription_line (drug_name);"

    /* The drug names and pinyin initials seen in the cache: a substring
     * search runs over this short list, then through the name index. */
    "CREATE TABLE queue_drug ("
    "  name TEXT PRIMARY KEY,"
    "  pinyin TEXT"
    ") WITHOUT ROWID;"
    "INSERT OR IGNORE INTO queue_drug (name, pinyin)"
    "  SELECT drug_name, drug_pinyin FROM prescription_line WHERE drug_name IS NOT NULL;"
    "CREATE TRIGGER queue_drug_insert AFTER INSERT ON prescription_line WHEN NEW.drug_name IS NOT NULL"
    "  BEGIN INSERT INTO queue_drug (name, pinyin) SELECT NEW.drug_name, NEW.drug_pinyin"
    "  WHERE NOT EXISTS (SELECT 1 FROM queue_drug WHERE name = NEW.drug_name); END;"
    "CREATE TRIGGER queue_drug_update AFTER UPDATE OF drug_name ON prescription_line WHEN NEW.drug_name IS NOT NULL"
    "  BEGIN INSERT INTO queue_drug (name, pinyin) SELECT NEW.drug_name, NEW.drug_pinyin"
    "  WHERE NOT EXISTS (SELECT 1 FROM queue_drug WHERE name = NEW.drug_name); END;"

    /* How many prescriptions per combination of what the queue filters
     * on, kept by triggers: the queue counts without a scan. */
    "CREATE TABLE queue_tally ("
    "  status TEXT NOT NULL,"
    "  queue_rank INTEGER NOT NULL,"
    "  online INTEGER NOT NULL,"
    "  has_block INTEGER NOT NULL,"
    "  claimed_by TEXT NOT NULL,"               /* '' when nobody holds a claim */
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY (status, queue_rank, online, has_block, claimed_by)"
    ") WITHOUT ROWID;"
    "INSERT INTO queue_tally (status, queue_rank, online, has_block, claimed_by, n)"
    "  SELECT status, queue_rank, online, has_block, coalesce (claimed_by, ''), count (*)"
    "  FROM prescription GROUP BY 1, 2, 3, 4, 5;"
    "CREATE TRIGGER queue_tally_insert AFTER INSERT ON prescription BEGIN"
    "  INSERT INTO queue_tally (status, queue_rank, online, has_block, claimed_by, n)"
    "    VALUES (NEW.status, NEW.queue_rank, NEW.online, NEW.has_block, coalesce (NEW.claimed_by, ''), 1)"
    "    ON CONFLICT DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER queue_tally_delete AFTER DELETE ON prescription BEGIN"
    "  UPDATE queue_tally SET n = n - 1 WHERE status = OLD.status AND queue_rank = OLD.queue_rank"
    "    AND online = OLD.online AND has_block = OLD.has_block AND claimed_by = coalesce (OLD.claimed_by, '');"
    "END;"
    "CREATE TRIGGER queue_tally_update AFTER UPDATE OF status, priority, online, has_block, claimed_by ON prescription BEGIN"
    "  UPDATE queue_tally SET n = n - 1 WHERE status = OLD.status AND queue_rank = OLD.queue_rank"
    "    AND online = OLD.online AND has_block = OLD.has_block AND claimed_by = coalesce (OLD.claimed_by, '');"
    "  INSERT INTO queue_tally (status, queue_rank, online, has_block, claimed_by, n)"
    "    VALUES (NEW.status, NEW.queue_rank, NEW.online, NEW.has_block, coalesce (NEW.claimed_by, ''), 1)"
    "    ON CONFLICT DO UPDATE SET n = n + 1;"
    "END;"
  },
  {
    "review queue: searches read only indexes",
    /* A search counts and pages its matches in queue order without
     * reading the table: each index a search goes through carries the
     * queue's order keys and filter columns after its own key, so that a
     * patient, a number or a drug is one range already in queue order. */
    "DROP INDEX prescription_name;"
    "DROP INDEX prescription_surname;"
    "DROP INDEX prescription_id_tail;"
    "DROP INDEX prescription_number;"
    "CREATE INDEX prescription_name ON prescription"
    "  (patient_name_index, queue_rank, queue_time, id, status, online, has_block, claimed_by);"
    "CREATE INDEX prescription_surname ON prescription"
    "  (patient_surname_index, queue_rank, queue_time, id, status, online, has_block, claimed_by);"
    "CREATE INDEX prescription_id_tail ON prescription"
    "  (patient_id_tail_index, queue_rank, queue_time, id, status, online, has_block, claimed_by);"
    "CREATE INDEX prescription_number ON prescription"
    "  (rx_number, queue_rank, queue_time, id, status, online, has_block, claimed_by);"
    /* A line carries its prescription's queue columns, kept by triggers. */
    "ALTER TABLE prescription_line ADD COLUMN rx_rank INTEGER;"
    "ALTER TABLE prescription_line ADD COLUMN rx_time TEXT;"
    "ALTER TABLE prescription_line ADD COLUMN rx_status TEXT;"
    "ALTER TABLE prescription_line ADD COLUMN rx_online INTEGER;"
    "ALTER TABLE prescription_line ADD COLUMN rx_block INTEGER;"
    "ALTER TABLE prescription_line ADD COLUMN rx_claimed_by TEXT;"
    "UPDATE prescription_line SET (rx_rank, rx_time, rx_status, rx_online, rx_block, rx_claimed_by) ="
    "  (SELECT queue_rank, queue_time, status, online, has_block, claimed_by"
    "   FROM prescription AS p WHERE p.id = prescription_line.prescription_id);"
    "DROP INDEX prescription_line_name;"
    "CREATE INDEX prescription_line_queue ON prescription_line"
    "  (drug_name, rx_rank, rx_time, prescription_id, rx_status, rx_online, rx_block, rx_claimed_by);"
    "CREATE TRIGGER queue_line_insert AFTER INSERT ON prescription_line BEGIN"
    "  UPDATE prescription_line SET (rx_rank, rx_time, rx_status, rx_online, rx_block, rx_claimed_by) ="
    "    (SELECT queue_rank, queue_time, status, online, has_block, claimed_by"
    "     FROM prescription AS p WHERE p.id = NEW.prescription_id)"
    "  WHERE id = NEW.id;"
    "END;"
    "CREATE TRIGGER queue_line_move AFTER UPDATE OF prescription_id ON prescription_line BEGIN"
    "  UPDATE prescription_line SET (rx_rank, rx_time, rx_status, rx_online, rx_block, rx_claimed_by) ="
    "    (SELECT queue_rank, queue_time, status, online, has_block, claimed_by"
    "     FROM prescription AS p WHERE p.id = NEW.prescription_id)"
    "  WHERE id = NEW.id;"
    "END;"
    /* Only a real change: the pull's upsert rewrites every column. */
    "CREATE TRIGGER queue_line_follow"
    "  AFTER UPDATE OF status, priority, online, has_block, claimed_by, authored_at ON prescription"
    "  WHEN OLD.status IS NOT NEW.status OR OLD.priority IS NOT NEW.priority OR OLD.online IS NOT NEW.online"
    "    OR OLD.has_block IS NOT NEW.has_block OR OLD.claimed_by IS NOT NEW.claimed_by"
    "    OR OLD.authored_at IS NOT NEW.authored_at BEGIN"
    "  UPDATE prescription_line SET (rx_rank, rx_time, rx_status, rx_online, rx_block, rx_claimed_by) ="
    "    (NEW.queue_rank, NEW.queue_time, NEW.status, NEW.online, NEW.has_block, NEW.claimed_by)"
    "  WHERE prescription_id = NEW.id;"
    "END;"
  },
  {
    "trust: the trail's two clocks, the pending chain",
    /* `at` is the machine's clock; on a database with a settable clock
     * `clock_at` keeps that clock's time as well (and marks the row). */
    "ALTER TABLE audit_event ADD COLUMN clock_at TEXT;"
    /* Rows waiting for a sign-in, chained among themselves by hash from
     * the position the last sign-in sealed; the head of that chain is
     * also kept in the keyring (pd-audit-pending.c). */
    "ALTER TABLE audit_pending ADD COLUMN seq INTEGER;"
    "ALTER TABLE audit_pending ADD COLUMN clock_at TEXT;"
    "ALTER TABLE audit_pending ADD COLUMN mac BLOB;"
    "ALTER TABLE audit_head ADD COLUMN pending_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE audit_head ADD COLUMN pending_mac BLOB;"
    "ALTER TABLE audit_head ADD COLUMN sealed_pending_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE audit_head ADD COLUMN sealed_pending_mac BLOB;"
    /* Rows that waited before this version have no chain: they are
     * counted, and the next sign-in takes no more of them than that. */
    "ALTER TABLE audit_head ADD COLUMN legacy_pending INTEGER NOT NULL DEFAULT 0;"
    "UPDATE audit_head SET legacy_pending = (SELECT count(*) FROM audit_pending);"
  },
  {
    "dispensing: fills by group, opened boxes, codes, stock moves, receivers",
    /* The first schema's dispensing tables were never written by any
     * version: they are replaced. A prescription may be filled again after
     * a parcel came back (its fill `stopped`), so a fill is unique only
     * while it is live. */
    "DROP TABLE trace_code;"
    "DROP TABLE dispense_item;"
    "DROP TABLE dispense;"
    "CREATE TABLE dispense ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"               /* urn:pharmdesk:dispense-group */
    "  prescription_id INTEGER NOT NULL REFERENCES prescription (id),"
    "  decision_id INTEGER NOT NULL REFERENCES review_decision (id),"
    "  dispenser_id INTEGER NOT NULL REFERENCES account (id),"
    "  checker_id INTEGER NOT NULL REFERENCES account (id),"
    "  state TEXT NOT NULL DEFAULT 'dispensed' CHECK (state IN ('dispensed', 'completed', 'stopped', 'conflict')),"
    "  prepared_at TEXT NOT NULL,"
    "  handed_over_at TEXT,"
    "  stopped_at TEXT,"
    "  stop_reason TEXT,"
    "  conflict TEXT,"                           /* what the hospital said */
    "  labels_printed INTEGER NOT NULL DEFAULT 0,"
    "  outbox_id INTEGER REFERENCES outbox (id),"
    "  CHECK (checker_id <> dispenser_id)"
    ");"
    "CREATE UNIQUE INDEX dispense_live ON dispense (prescription_id) WHERE state IN ('dispensed', 'completed');"
    "CREATE INDEX dispense_rx ON dispense (prescription_id);"
    /* One MedicationDispense each: a line and a lot. */
    "CREATE TABLE dispense_item ("
    "  id INTEGER PRIMARY KEY,"
    "  dispense_id INTEGER NOT NULL REFERENCES dispense (id),"
    "  n INTEGER NOT NULL CHECK (n > 0),"         /* urn:pharmdesk:dispense {uuid}:{n} */
    "  line_id INTEGER NOT NULL REFERENCES prescription_line (id),"
    "  batch_id INTEGER NOT NULL REFERENCES stock_batch (id),"
    "  boxes INTEGER NOT NULL CHECK (boxes > 0),"
    "  units INTEGER NOT NULL CHECK (units > 0),"  /* product units given */
    "  boxes_from_stock INTEGER NOT NULL CHECK (boxes_from_stock >= 0),"
    "  resource_id TEXT,"                        /* MedicationDispense id on the hospital */
    "  version_id TEXT,"
    "  UNIQUE (dispense_id, n)"
    ");"
    /* A drug traceability code (药品追溯码): one box. `in_stock` after a
     * return to stock, `opened` while a split pack's box has units left. */
    "CREATE TABLE trace_code ("
    "  code TEXT PRIMARY KEY,"
    "  drug_code TEXT NOT NULL,"
    "  batch_id INTEGER NOT NULL REFERENCES stock_batch (id),"
    "  state TEXT NOT NULL CHECK (state IN ('dispensed', 'opened', 'in_stock', 'destroyed', 'sold')),"
    "  units_left INTEGER NOT NULL DEFAULT 0 CHECK (units_left >= 0),"
    "  updated_at TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX trace_code_opened ON trace_code (batch_id) WHERE state = 'opened';"
    "CREATE TABLE dispense_code ("
    "  item_id INTEGER NOT NULL REFERENCES dispense_item (id),"
    "  code TEXT NOT NULL REFERENCES trace_code (code),"
    "  units INTEGER NOT NULL CHECK (units > 0),"  /* taken from this box by this fill */
    "  opened_before INTEGER NOT NULL DEFAULT 0 CHECK (opened_before IN (0, 1)),"
    "  PRIMARY KEY (item_id, code)"
    ") WITHOUT ROWID;"
    /* Every change of boxes on hand, signed: receipts, fills, returns. */
    "CREATE TABLE stock_move ("
    "  id INTEGER PRIMARY KEY,"
    "  batch_id INTEGER NOT NULL REFERENCES stock_batch (id),"
    "  boxes INTEGER NOT NULL,"
    "  reason TEXT NOT NULL CHECK (reason IN ('receive', 'dispense', 'return', 'conflict', 'destroy', 'sale')),"
    "  dispense_id INTEGER REFERENCES dispense (id),"
    "  actor_id INTEGER REFERENCES account (id),"
    "  at TEXT NOT NULL"
    ");"
    "CREATE INDEX stock_move_batch ON stock_move (batch_id);"
    /* How the patient receives the drugs (the Task's `delivery` input):
     * the receiver's name, address and phone sealed like every patient field. */
    "ALTER TABLE prescription ADD COLUMN delivery INTEGER NOT NULL DEFAULT 0 CHECK (delivery IN (0, 1));"
    "ALTER TABLE prescription ADD COLUMN receiver_sealed BLOB;"
  },
  {
    "settlement: sales and their lines, one settlement in flight per sale",
    /* A sale is what the counter sells once, insured or self-paid: a
     * dispensed prescription's lines or a counter sale's. Its rxno has at
     * most one live sale, so no prescription is settled twice; a sale has
     * at most one 2102 that is on its way, unknown or settled, so nothing
     * is charged twice while an outcome is not known (insurance.md). */
    "CREATE TABLE sale ("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  rxno TEXT NOT NULL,"
    "  dispense_id INTEGER REFERENCES dispense (id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('insurance', 'self-pay')),"
    "  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'settled', 'self-paid', 'refused', 'cancelled')),"
    "  med_type TEXT NOT NULL DEFAULT '41',"
    "  medfee_sumamt_fen INTEGER NOT NULL CHECK (medfee_sumamt_fen >= 0),"
    "  psn_no TEXT,"
    "  person_sealed BLOB,"                      /* certificate type and number, name */
    "  operator_id INTEGER REFERENCES account (id),"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL"
    ");"
    "CREATE UNIQUE INDEX sale_rx_live ON sale (rxno) WHERE state IN ('open', 'settled', 'self-paid');"
    "CREATE TABLE sale_line ("
    "  id INTEGER PRIMARY KEY,"
    "  sale_id INTEGER NOT NULL REFERENCES sale (id),"
    "  feedetl_sn TEXT NOT NULL,"
    "  drug_code TEXT NOT NULL,"
    "  nhsa_code TEXT,"
    "  batch_id INTEGER REFERENCES stock_batch (id),"
    "  units INTEGER NOT NULL CHECK (units > 0),"
    "  unit_price_e4 INTEGER NOT NULL CHECK (unit_price_e4 >= 0),"
    "  amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),"
    "  expected_class TEXT CHECK (expected_class IN ('A', 'B', 'C')),"
    "  centre_class TEXT,"
    "  split_pack INTEGER NOT NULL DEFAULT 0 CHECK (split_pack IN (0, 1)),"
    "  trace_codes TEXT NOT NULL DEFAULT '[]',"   /* JSON array */
    "  UNIQUE (sale_id, feedetl_sn)"
    ");"
    "ALTER TABLE settlement ADD COLUMN sale_id INTEGER REFERENCES sale (id);"
    "CREATE UNIQUE INDEX settlement_sale_live ON settlement (sale_id)"
    "  WHERE kind = 'settle' AND state IN ('sending', 'unknown', 'settled');"
    /* 3505/3506 per sale line; the first schema's table was never written. */
    "DROP TABLE sales_upload;"
    "CREATE TABLE sales_upload ("
    "  id INTEGER PRIMARY KEY,"
    "  sale_line_id INTEGER NOT NULL REFERENCES sale_line (id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('sale', 'return')),"
    "  msgid TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL CHECK (state IN ('sending', 'uploaded', 'refused', 'unknown', 'reversed')),"
    "  msg TEXT,"
    "  outbox_id INTEGER REFERENCES outbox (id)"
    ");"
    "CREATE INDEX sales_upload_line ON sales_upload (sale_line_id);"
  },
};

const PdSchema *
pd_schema_pharmacy (void)
{
  static const PdSchema schema = {
    "pharmacy",
    0x50484d44,  /* "PHMD" */
    pharmacy_migrations,
    G_N_ELEMENTS (pharmacy_migrations),
  };

  return &schema;
}
