//! Identity, access, accounts, contacts, custom fields, audit, search, saved views.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use super::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(name("teams"))
                .col(uuid_pk())
                .col(
                    ColumnDef::new(name("name"))
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(name("users"))
                .col(uuid_pk())
                .col(
                    ColumnDef::new(name("email"))
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(text("name"))
                .col(text("password_hash"))
                .col(text("role"))
                .col(uuid_null("team_id"))
                .col(text("locale"))
                .col(boolean("disabled"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(
                    ColumnDef::new(name("version"))
                        .big_integer()
                        .not_null()
                        .default(1),
                )
                .foreign_key(&mut fk(
                    "users",
                    "team_id",
                    "teams",
                    ForeignKeyAction::SetNull,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("users", &["team_id"])).await?;

        m.create_table(
            Table::create()
                .table(name("role_permissions"))
                .col(text("role"))
                .col(text("entity"))
                .col(text("read_scope"))
                .col(text("write_scope"))
                .primary_key(Index::create().col(name("role")).col(name("entity")))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(name("sessions"))
                .col(
                    ColumnDef::new(name("token_hash"))
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(uuid("user_id"))
                .col(text("csrf_token"))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(ts_null("revoked_at"))
                .foreign_key(&mut fk(
                    "sessions",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sessions", &["user_id"])).await?;

        m.create_table(
            Table::create()
                .table(name("api_tokens"))
                .col(uuid_pk())
                .col(uuid("user_id"))
                .col(text("name"))
                .col(
                    ColumnDef::new(name("token_hash"))
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(text("prefix"))
                .col(ts("created_at"))
                .col(ts_null("last_used_at"))
                .col(ts_null("revoked_at"))
                .foreign_key(&mut fk(
                    "api_tokens",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("api_tokens", &["user_id"])).await?;

        m.create_table(
            Table::create()
                .table(name("login_failures"))
                .col(
                    ColumnDef::new(name("key"))
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(big("failures"))
                .col(ts("window_start"))
                .col(ts_null("locked_until"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(name("custom_fields"))
                .col(uuid_pk())
                .col(text("entity"))
                .col(text("key"))
                .col(text("label_en"))
                .col(text("label_zh"))
                .col(text("kind"))
                .col(boolean("required"))
                .col(json("options", "[]"))
                .col(big("position"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(
                    ColumnDef::new(name("version"))
                        .big_integer()
                        .not_null()
                        .default(1),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("custom_fields", &["entity", "key"])
                .unique()
                .to_owned(),
        )
        .await?;

        let mut accounts = Table::create();
        accounts
            .table(name("accounts"))
            .col(uuid_pk())
            .col(text("kind"))
            .col(text("name"))
            .col(json("former_names", "[]"))
            .col(text("tax_id"))
            .col(text("industry"))
            .col(text("account_type"))
            .col(text("rating"))
            .col(text("source"))
            .col(text("website"))
            .col(text("domain"))
            .col(json("phones", "[]"))
            .col(json("emails", "[]"));
        address_columns(&mut accounts, "billing");
        address_columns(&mut accounts, "shipping");
        accounts
            .col(big_null("employees"))
            .col(big_null("annual_revenue_amount"))
            .col(text("annual_revenue_currency"))
            .col(uuid_null("parent_id"))
            .col(long_text("description"));
        record_columns(&mut accounts);
        accounts
            .foreign_key(&mut fk(
                "accounts",
                "parent_id",
                "accounts",
                ForeignKeyAction::SetNull,
            ))
            .foreign_key(&mut fk(
                "accounts",
                "owner_id",
                "users",
                ForeignKeyAction::Restrict,
            ));
        m.create_table(accounts.to_owned()).await?;
        for cols in [
            &["created_at", "id"][..],
            &["updated_at", "id"],
            &["name", "id"],
            // Filter columns first, then the default sort and the id tiebreak, so a filtered
            // list reads its page straight off the index instead of sorting every match.
            &["owner_id", "created_at", "id"],
            &["owner_id", "billing_province", "created_at", "id"],
            &["billing_province", "created_at", "id"],
            &["account_type", "created_at", "id"],
            &["domain"],
            &["tax_id"],
            &["parent_id"],
        ] {
            m.create_index(index("accounts", cols)).await?;
        }

        let mut contacts = Table::create();
        contacts
            .table(name("contacts"))
            .col(uuid_pk())
            .col(text("family_name"))
            .col(text("given_name"))
            .col(text("salutation"))
            .col(text("title"))
            .col(text("department"))
            .col(uuid_null("account_id"))
            .col(json("emails", "[]"))
            .col(json("phones", "[]"))
            .col(text("wechat_id"))
            .col(ColumnDef::new(name("birthday")).date().null())
            .col(text("preferred_channel"))
            .col(boolean("do_not_call"))
            .col(boolean("do_not_email"));
        address_columns(&mut contacts, "address");
        contacts.col(long_text("description"));
        record_columns(&mut contacts);
        contacts
            .foreign_key(&mut fk(
                "contacts",
                "account_id",
                "accounts",
                ForeignKeyAction::SetNull,
            ))
            .foreign_key(&mut fk(
                "contacts",
                "owner_id",
                "users",
                ForeignKeyAction::Restrict,
            ));
        m.create_table(contacts.to_owned()).await?;
        for cols in [
            &["created_at", "id"][..],
            &["updated_at", "id"],
            &["family_name", "given_name", "id"],
            &["owner_id", "created_at", "id"],
            &["owner_id", "address_province", "created_at", "id"],
            &["address_province", "created_at", "id"],
            &["account_id"],
        ] {
            m.create_index(index("contacts", cols)).await?;
        }

        m.create_table(
            Table::create()
                .table(name("audit_log"))
                .col(uuid_pk())
                .col(text("entity"))
                .col(uuid("record_id"))
                .col(text("action"))
                .col(uuid_null("actor_id"))
                .col(ts("at"))
                .col(json("changes", "[]"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_log", &["record_id", "at"]))
            .await?;

        // Normalized e-mails, phones and domains: the natural keys for matching and dedupe.
        m.create_table(
            Table::create()
                .table(name("contact_points"))
                .col(text("entity"))
                .col(uuid("record_id"))
                .col(text("kind"))
                .col(text("value"))
                .primary_key(
                    Index::create()
                        .col(name("record_id"))
                        .col(name("kind"))
                        .col(name("value")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("contact_points", &["kind", "value"]))
            .await?;

        m.create_table(
            Table::create()
                .table(name("saved_views"))
                .col(uuid_pk())
                .col(uuid("user_id"))
                .col(text("entity"))
                .col(text("name"))
                .col(long_text("query"))
                .col(ts("created_at"))
                .foreign_key(&mut fk(
                    "saved_views",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("saved_views", &["user_id", "entity", "name"])
                .unique()
                .to_owned(),
        )
        .await?;

        let conn = m.get_connection();
        // The recycle bin is a small slice of each table: a partial index serves it, and a full
        // index on deleted_at would tempt the planner into sorting whole tables for live lists.
        conn.execute_unprepared(
            "CREATE INDEX ix_accounts_deleted ON accounts (deleted_at) WHERE deleted_at IS NOT NULL;
             CREATE INDEX ix_contacts_deleted ON contacts (deleted_at) WHERE deleted_at IS NOT NULL;",
        )
        .await?;
        match conn.get_database_backend() {
            DbBackend::Postgres => {
                conn.execute_unprepared(
                    "CREATE TABLE search_entries (
                        record_id uuid PRIMARY KEY,
                        entity text NOT NULL,
                        owner_id uuid NOT NULL,
                        title text NOT NULL,
                        doc tsvector NOT NULL
                    );
                    CREATE INDEX ix_search_entries_doc ON search_entries USING gin (doc);
                    CREATE INDEX ix_search_entries_owner ON search_entries (owner_id);
                    CREATE INDEX ix_search_entries_title ON search_entries (title);",
                )
                .await?;
            }
            _ => {
                // External-content FTS5 over search_entries. The document is pre-tokenized in
                // Rust (each CJK character its own token), so unicode61 only has to split on
                // spaces and phrase queries give substring matches of any length.
                conn.execute_unprepared(
                    "CREATE TABLE search_entries (
                        rowid INTEGER PRIMARY KEY,
                        record_id BLOB NOT NULL UNIQUE,
                        entity TEXT NOT NULL,
                        owner_id BLOB NOT NULL,
                        title TEXT NOT NULL,
                        doc TEXT NOT NULL
                    );
                    CREATE INDEX ix_search_entries_owner ON search_entries (owner_id);
                    CREATE INDEX ix_search_entries_title ON search_entries (title);
                    CREATE VIRTUAL TABLE search_fts USING fts5(
                        doc, content='search_entries', content_rowid='rowid',
                        tokenize='unicode61 remove_diacritics 0', detail=full
                    );
                    CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN
                        INSERT INTO search_fts(rowid, doc) VALUES (new.rowid, new.doc);
                    END;
                    CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN
                        INSERT INTO search_fts(search_fts, rowid, doc) VALUES ('delete', old.rowid, old.doc);
                    END;
                    CREATE TRIGGER search_entries_au AFTER UPDATE OF doc ON search_entries BEGIN
                        INSERT INTO search_fts(search_fts, rowid, doc) VALUES ('delete', old.rowid, old.doc);
                        INSERT INTO search_fts(rowid, doc) VALUES (new.rowid, new.doc);
                    END;",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the foundation migration cannot be reverted".into(),
        ))
    }
}
