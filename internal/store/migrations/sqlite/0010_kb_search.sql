-- An editor's search (GET /api/v1/kb/entries?q=) looks in one folded column:
-- the id, titles, questions and answers with full-width letters and digits
-- made half-width, lower case in every script and common traditional
-- characters made simplified (knowledge.Entry.SearchText). SQL's LOWER()
-- folds only ASCII on SQLite and no width anywhere, so "vip" missed "ＶＩＰ".
-- The migration's Go step (store.migrationSteps) fills it in for the
-- entries already stored.
ALTER TABLE kb_entries ADD COLUMN search TEXT NOT NULL DEFAULT '';
