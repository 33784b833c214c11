//! [`Readiness`] for the database: it answers, and no migration is pending.

use crate::connect::Database;
use async_trait::async_trait;
use clavis_core::health::Readiness;
use std::collections::BTreeMap;

#[async_trait]
impl Readiness for Database {
    async fn check(&self) -> Result<(), BTreeMap<String, String>> {
        let mut problems = BTreeMap::new();
        if let Err(reason) = self.ping().await {
            problems.insert("database".to_owned(), reason);
        } else {
            match self.migration_status().await {
                Ok(status) if status.pending.is_empty() => {}
                Ok(status) => {
                    problems.insert(
                        "migrations".to_owned(),
                        format!(
                            "{} pending: {}",
                            status.pending.len(),
                            status.pending.join(", ")
                        ),
                    );
                }
                Err(e) => {
                    problems.insert("migrations".to_owned(), e.to_string());
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}
