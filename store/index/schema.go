package index

// The schema, one migration step per element of migrations: migrations[i] takes
// a database from user_version i to i+1. Steps are append-only; never edit one
// that has shipped. docs/index-schema.md describes the result for readers that
// use the sqlite3 shell or other tools.
//
// The schema SQL avoids recent syntax (STRICT tables, generated columns,
// aggregate ORDER BY) so that older sqlite3 shells can still open the file:
// a reader parses every trigger body when it opens the schema. Steps run
// inside one transaction, so they must not use PRAGMAs that cannot
// (journal_mode, ...).
var migrations = []string{schemaV1 + triggersV1, schemaV2}

// schemaVersion is the user_version a fully migrated index has.
var schemaVersion = len(migrations)

const schemaV1 = `
CREATE TABLE patients (
  id                 INTEGER PRIMARY KEY,
  patient_id         TEXT    NOT NULL UNIQUE,
  patient_name       TEXT    NOT NULL DEFAULT '',
  patient_birth_date TEXT    NOT NULL DEFAULT '',
  patient_sex        TEXT    NOT NULL DEFAULT '',
  study_count        INTEGER NOT NULL DEFAULT 0,
  instance_count     INTEGER NOT NULL DEFAULT 0,
  size_bytes         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE studies (
  id                  INTEGER PRIMARY KEY,
  patient_ref         INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
  study_instance_uid  TEXT    NOT NULL,
  patient_id          TEXT    NOT NULL,
  patient_name        TEXT    NOT NULL DEFAULT '',
  patient_birth_date  TEXT    NOT NULL DEFAULT '',
  patient_sex         TEXT    NOT NULL DEFAULT '',
  study_date          TEXT    NOT NULL DEFAULT '',
  study_time          TEXT    NOT NULL DEFAULT '',
  study_description   TEXT    NOT NULL DEFAULT '',
  accession_number    TEXT    NOT NULL DEFAULT '',
  study_id            TEXT    NOT NULL DEFAULT '',
  referring_physician TEXT    NOT NULL DEFAULT '',
  source_ae           TEXT    NOT NULL DEFAULT '',
  modalities          TEXT    NOT NULL DEFAULT '',
  series_count        INTEGER NOT NULL DEFAULT 0,
  instance_count      INTEGER NOT NULL DEFAULT 0,
  size_bytes          INTEGER NOT NULL DEFAULT 0,
  first_received      TEXT    NOT NULL DEFAULT '',
  last_received       TEXT    NOT NULL DEFAULT '',
  search_text         TEXT    NOT NULL DEFAULT '',
  UNIQUE (patient_ref, study_instance_uid)
);
CREATE INDEX studies_uid           ON studies(study_instance_uid);
CREATE INDEX studies_last_received ON studies(last_received);
CREATE INDEX studies_study_date    ON studies(study_date, study_time);
CREATE INDEX studies_patient_name  ON studies(patient_name COLLATE NOCASE);
CREATE INDEX studies_patient_id    ON studies(patient_id);
CREATE INDEX studies_description   ON studies(study_description COLLATE NOCASE);
CREATE INDEX studies_accession     ON studies(accession_number);
CREATE INDEX studies_modalities    ON studies(modalities);
CREATE INDEX studies_source_ae     ON studies(source_ae);
-- Covers the study-list filter: a scan of this index is cheaper than one of
-- the table (the counts are not indexed: a page sorted by them scans and sorts).
CREATE INDEX studies_search        ON studies(search_text, modalities);

CREATE TABLE series (
  id                  INTEGER PRIMARY KEY,
  study_ref           INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
  series_instance_uid TEXT    NOT NULL,
  series_number       INTEGER NOT NULL DEFAULT 0,
  series_description  TEXT    NOT NULL DEFAULT '',
  modality            TEXT    NOT NULL DEFAULT '',
  body_part           TEXT    NOT NULL DEFAULT '',
  instance_count      INTEGER NOT NULL DEFAULT 0,
  size_bytes          INTEGER NOT NULL DEFAULT 0,
  first_received      TEXT    NOT NULL DEFAULT '',
  last_received       TEXT    NOT NULL DEFAULT '',
  UNIQUE (study_ref, series_instance_uid)
);
CREATE INDEX series_uid ON series(series_instance_uid);

CREATE TABLE instances (
  id                     INTEGER PRIMARY KEY,
  sop_instance_uid       TEXT    NOT NULL UNIQUE,
  sop_class_uid          TEXT    NOT NULL DEFAULT '',
  study_instance_uid     TEXT    NOT NULL,
  series_instance_uid    TEXT    NOT NULL,
  patient_id             TEXT    NOT NULL,
  patient_name           TEXT    NOT NULL DEFAULT '',
  study_date             TEXT    NOT NULL DEFAULT '',
  modality               TEXT    NOT NULL DEFAULT '',
  transfer_syntax_uid    TEXT    NOT NULL DEFAULT '',
  path                   TEXT    NOT NULL,
  size_bytes             INTEGER NOT NULL DEFAULT 0,
  calling_ae             TEXT    NOT NULL DEFAULT '',
  received_at            TEXT    NOT NULL,
  patient_birth_date     TEXT    NOT NULL DEFAULT '',
  patient_sex            TEXT    NOT NULL DEFAULT '',
  study_time             TEXT    NOT NULL DEFAULT '',
  study_description      TEXT    NOT NULL DEFAULT '',
  accession_number       TEXT    NOT NULL DEFAULT '',
  study_id               TEXT    NOT NULL DEFAULT '',
  referring_physician    TEXT    NOT NULL DEFAULT '',
  series_number          INTEGER NOT NULL DEFAULT 0,
  series_description     TEXT    NOT NULL DEFAULT '',
  body_part              TEXT    NOT NULL DEFAULT '',
  instance_number        INTEGER NOT NULL DEFAULT 0,
  number_of_frames       INTEGER NOT NULL DEFAULT 0,
  specific_character_set TEXT    NOT NULL DEFAULT '',
  content_hash           TEXT    NOT NULL DEFAULT '',
  called_ae              TEXT    NOT NULL DEFAULT '',
  source_ip              TEXT    NOT NULL DEFAULT '',
  series_id              INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE
);
CREATE INDEX instances_series ON instances(series_id, received_at);
`

// modalitiesOf is the sorted, backslash-separated set of the non-empty
// modalities of study %s's series. group_concat keeps the order of its
// sub-select in every SQLite version in use, though SQLite does not promise it.
const modalitiesOf = `(SELECT coalesce(group_concat(modality, '\'), '') FROM
      (SELECT DISTINCT modality FROM series WHERE study_ref = %[1]s AND modality <> '' ORDER BY modality))`

// triggersV1 keeps the denormalised counts, sizes, first/last received times
// and modalities of series, studies and patients right for every writer (this
// package, reindex, or a person with the sqlite3 shell), and removes a series,
// study or patient once its last child is gone. Changes flow upwards one level
// per trigger: instances -> series -> studies -> patients. Moving a series to
// another study or a study to another patient is refused; an instance may move
// to another series (a replaced instance whose UIDs changed).
var triggersV1 = `
CREATE TRIGGER instances_ai AFTER INSERT ON instances BEGIN
  UPDATE series SET instance_count = instance_count + 1,
    size_bytes = size_bytes + NEW.size_bytes,
    first_received = CASE WHEN first_received = '' OR NEW.received_at < first_received
                          THEN NEW.received_at ELSE first_received END,
    last_received = max(last_received, NEW.received_at)
  WHERE id = NEW.series_id;
END;

CREATE TRIGGER instances_ad AFTER DELETE ON instances BEGIN
  UPDATE series SET instance_count = instance_count - 1,
    size_bytes = size_bytes - OLD.size_bytes,
    first_received = CASE WHEN OLD.received_at = first_received
      THEN coalesce((SELECT min(received_at) FROM instances WHERE series_id = OLD.series_id), '')
      ELSE first_received END,
    last_received = CASE WHEN OLD.received_at = last_received
      THEN coalesce((SELECT max(received_at) FROM instances WHERE series_id = OLD.series_id), '')
      ELSE last_received END
  WHERE id = OLD.series_id;
  DELETE FROM series WHERE id = OLD.series_id AND instance_count <= 0;
END;

CREATE TRIGGER instances_au AFTER UPDATE OF series_id, size_bytes, received_at ON instances BEGIN
  UPDATE series SET instance_count = instance_count - 1,
    size_bytes = size_bytes - OLD.size_bytes,
    first_received = coalesce((SELECT min(received_at) FROM instances WHERE series_id = OLD.series_id), ''),
    last_received = coalesce((SELECT max(received_at) FROM instances WHERE series_id = OLD.series_id), '')
  WHERE id = OLD.series_id;
  UPDATE series SET instance_count = instance_count + 1,
    size_bytes = size_bytes + NEW.size_bytes,
    first_received = CASE WHEN first_received = '' OR NEW.received_at < first_received
                          THEN NEW.received_at ELSE first_received END,
    last_received = max(last_received, NEW.received_at)
  WHERE id = NEW.series_id;
  DELETE FROM series WHERE id = OLD.series_id AND instance_count <= 0;
END;

CREATE TRIGGER series_bu_study BEFORE UPDATE OF study_ref ON series
WHEN NEW.study_ref <> OLD.study_ref BEGIN
  SELECT RAISE(ABORT, 'series.study_ref cannot change: delete and insert instead');
END;

CREATE TRIGGER series_ai AFTER INSERT ON series BEGIN
  UPDATE studies SET series_count = series_count + 1,
    instance_count = instance_count + NEW.instance_count,
    size_bytes = size_bytes + NEW.size_bytes,
    modalities = CASE WHEN NEW.modality = '' THEN modalities ELSE ` + sqlf(modalitiesOf, "NEW.study_ref") + ` END,
    first_received = CASE WHEN NEW.first_received <> '' AND (first_received = '' OR NEW.first_received < first_received)
                          THEN NEW.first_received ELSE first_received END,
    last_received = max(last_received, NEW.last_received)
  WHERE id = NEW.study_ref;
END;

CREATE TRIGGER series_au_counts AFTER UPDATE OF instance_count, size_bytes, first_received, last_received ON series BEGIN
  UPDATE studies SET instance_count = instance_count + NEW.instance_count - OLD.instance_count,
    size_bytes = size_bytes + NEW.size_bytes - OLD.size_bytes,
    first_received = CASE
      WHEN NEW.first_received = OLD.first_received THEN first_received
      WHEN NEW.first_received <> '' AND (first_received = '' OR NEW.first_received < first_received) THEN NEW.first_received
      ELSE coalesce((SELECT min(first_received) FROM series WHERE study_ref = NEW.study_ref AND first_received <> ''), '') END,
    last_received = CASE
      WHEN NEW.last_received = OLD.last_received THEN last_received
      WHEN NEW.last_received > last_received THEN NEW.last_received
      ELSE coalesce((SELECT max(last_received) FROM series WHERE study_ref = NEW.study_ref), '') END
  WHERE id = NEW.study_ref;
END;

CREATE TRIGGER series_au_modality AFTER UPDATE OF modality ON series
WHEN NEW.modality IS NOT OLD.modality BEGIN
  UPDATE studies SET modalities = ` + sqlf(modalitiesOf, "NEW.study_ref") + ` WHERE id = NEW.study_ref;
END;

CREATE TRIGGER series_ad AFTER DELETE ON series BEGIN
  UPDATE studies SET series_count = series_count - 1,
    instance_count = instance_count - OLD.instance_count,
    size_bytes = size_bytes - OLD.size_bytes,
    modalities = ` + sqlf(modalitiesOf, "OLD.study_ref") + `,
    first_received = coalesce((SELECT min(first_received) FROM series WHERE study_ref = OLD.study_ref AND first_received <> ''), ''),
    last_received = coalesce((SELECT max(last_received) FROM series WHERE study_ref = OLD.study_ref), '')
  WHERE id = OLD.study_ref;
  DELETE FROM studies WHERE id = OLD.study_ref AND series_count <= 0;
END;

CREATE TRIGGER studies_bu_patient BEFORE UPDATE OF patient_ref ON studies
WHEN NEW.patient_ref <> OLD.patient_ref BEGIN
  SELECT RAISE(ABORT, 'studies.patient_ref cannot change: delete and insert instead');
END;

CREATE TRIGGER studies_ai AFTER INSERT ON studies BEGIN
  UPDATE patients SET study_count = study_count + 1,
    instance_count = instance_count + NEW.instance_count,
    size_bytes = size_bytes + NEW.size_bytes
  WHERE id = NEW.patient_ref;
END;

CREATE TRIGGER studies_au AFTER UPDATE OF instance_count, size_bytes ON studies BEGIN
  UPDATE patients SET instance_count = instance_count + NEW.instance_count - OLD.instance_count,
    size_bytes = size_bytes + NEW.size_bytes - OLD.size_bytes
  WHERE id = NEW.patient_ref;
END;

CREATE TRIGGER studies_ad AFTER DELETE ON studies BEGIN
  UPDATE patients SET study_count = study_count - 1,
    instance_count = instance_count - OLD.instance_count,
    size_bytes = size_bytes - OLD.size_bytes
  WHERE id = OLD.patient_ref;
  DELETE FROM patients WHERE id = OLD.patient_ref AND study_count <= 0;
END;
`

// schemaV2 adds the outbox: events waiting to be published (to Kafka) by a
// relay, written in the same transaction as the index row they describe (see
// outbox.go). The rowid gives the order: a new row always gets a larger id
// than every row present, which is all the relay needs (AUTOINCREMENT and an
// index on sop_instance_uid were measured: each adds a page write to every
// instance's transaction; Forget, used only at start, scans instead).
const schemaV2 = `
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  stream           TEXT    NOT NULL,
  msg_key          TEXT    NOT NULL DEFAULT '',
  headers          TEXT    NOT NULL DEFAULT '[]',
  value            BLOB    NOT NULL,
  sop_instance_uid TEXT    NOT NULL DEFAULT '',
  created_at       TEXT    NOT NULL
);
`
