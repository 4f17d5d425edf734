//! 口座振替 as files: the request file of the bank-debit bills drawn on a day, and the
//! bank's result file read back into commands. A debit made is money received
//! (`ReceivePayment`, transaction id `bank-debit:<customer number>`); a failed one is
//! `RecordDebitFailure`. Both are keyed by the customer number, so a debit is recorded once
//! however often its file is imported.

use atone_domain::{
    AccountKind, BankAccount, Command, DomainError, ReceivePayment, RecordDebitFailure, Reply,
};
use atone_storage::bank_debits::{self, DebitRow, DrawnBill};
use atone_zengin::{Account, Debit, DebitFile, Header, Outcome};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::BillingRuns;
use crate::CommandError;

/// Who draws: the consignor (委託者) the bank knows, and the account the money goes to.
/// Read from `--bank-debit-config`, a JSON file.
#[derive(Clone, PartialEq, Eq)]
pub struct Consignor {
    /// 委託者コード, 10 digits, given by the bank.
    pub code: String,
    /// 委託者名, in file characters, at most 40.
    pub name: String,
    pub account: Account,
}

impl std::fmt::Debug for Consignor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consignor")
            .field("code", &self.code)
            .field("bank_code", &self.account.bank_code)
            .field("account", &atone_domain::mask(&self.account.number))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsignorFile {
    consignor_code: String,
    consignor_name: String,
    bank_code: String,
    #[serde(default)]
    bank_name: String,
    branch_code: String,
    #[serde(default)]
    branch_name: String,
    #[serde(default)]
    account_kind: AccountKind,
    account_number: String,
}

impl Consignor {
    /// Reads the JSON of `--bank-debit-config`, checking each field as the file needs it.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let file: ConsignorFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.consignor_code.len() != 10
            || !file.consignor_code.bytes().all(|b| b.is_ascii_digit())
        {
            return Err("consignor_code: must be the 10 digits the bank gave".to_owned());
        }
        let name = atone_zengin::to_file_chars(file.consignor_name.trim()).map_err(|c| {
            format!(
                "consignor_name: U+{:04X} cannot be written in the file",
                u32::from(c)
            )
        })?;
        if name.is_empty() || name.chars().count() > 40 {
            return Err("consignor_name: 1 to 40 characters in half-width kana".to_owned());
        }
        let account = BankAccount::parse(&BankAccount {
            bank_code: file.bank_code,
            bank_name: file.bank_name,
            branch_code: file.branch_code,
            branch_name: file.branch_name,
            kind: file.account_kind,
            number: file.account_number,
            holder: "-".to_owned(),
        })
        .map_err(|e| e.to_string())?;
        Ok(Self {
            code: file.consignor_code,
            name,
            account: file_account(&account),
        })
    }
}

fn file_account(a: &BankAccount) -> Account {
    Account {
        bank_code: a.bank_code.clone(),
        bank_name: a.bank_name.clone(),
        branch_code: a.branch_code.clone(),
        branch_name: a.branch_name.clone(),
        kind: match a.kind {
            AccountKind::Ordinary => atone_zengin::AccountKind::Ordinary,
            AccountKind::Checking => atone_zengin::AccountKind::Checking,
        },
        number: a.number.clone(),
    }
}

/// An exported request file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub file: Vec<u8>,
    /// SHA-256 of the file, hex.
    pub digest: String,
    pub debits: usize,
    pub total_amount: i64,
    /// Bills drawn that day that are not in the file: their member has no account.
    pub skipped: Vec<DrawnBill>,
}

/// What an import recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub debits: usize,
    pub debited: usize,
    pub debited_amount: i64,
    pub failed: usize,
    pub already_imported: usize,
}

/// The customer number of row `n` in the file: 20 digits.
fn customer_number(n: i64) -> String {
    format!("{n:020}")
}

fn invalid(line: usize, field: &str, reason: impl std::fmt::Display) -> CommandError {
    DomainError::InvalidArgument {
        field: "file",
        reason: format!("line {line}, {field}: {reason}"),
    }
    .into()
}

impl BillingRuns {
    /// The request file of the bank-debit bills drawn on `day`.
    pub async fn export_bank_debits(
        &self,
        consignor: &Consignor,
        day: NaiveDate,
    ) -> Result<Exported, CommandError> {
        let db = self.handler.store().db();
        let drawn = bank_debits::bills_drawn_on(db, day).await?;
        let members: Vec<String> = drawn.iter().map(|b| b.user_id.clone()).collect();
        let accounts = bank_debits::accounts_of(db, &members).await?;
        let (with, skipped): (Vec<DrawnBill>, Vec<DrawnBill>) = drawn
            .into_iter()
            .partition(|b| accounts.contains_key(&b.user_id));
        let rows = bank_debits::number_debits(db, day, &with).await?;
        let mut debits = Vec::with_capacity(rows.len());
        for row in rows.iter().filter(|r| r.result_code.is_none()) {
            let Some(account) = accounts.get(&row.user_id) else {
                continue;
            };
            debits.push(Debit {
                account: file_account(account),
                holder: account.holder.clone(),
                amount: row.amount,
                customer_number: customer_number(row.customer_number),
                outcome: Outcome::Debited,
            });
        }
        let file = DebitFile {
            header: Header {
                consignor_code: consignor.code.clone(),
                consignor_name: consignor.name.clone(),
                debit_month: day.month(),
                debit_day: day.day(),
                account: consignor.account.clone(),
            },
            debits,
        };
        // What was validated when it was recorded and no longer writes (a rule tightened
        // since) is the store's problem, not the caller's: named, not blamed on the request.
        let bytes = file.encode(false).map_err(|e| {
            atone_storage::StorageError::Corrupt(format!("the request file cannot be written: {e}"))
        })?;
        let digest = hex::encode(Sha256::digest(&bytes));
        let numbers: Vec<i64> = rows
            .iter()
            .filter(|r| r.result_code.is_none())
            .map(|r| r.customer_number)
            .collect();
        bank_debits::mark_exported(db, &numbers, &digest).await?;
        tracing::info!(%day, debits = file.debits.len(), skipped = skipped.len(), %digest, "bank-debit request file exported");
        Ok(Exported {
            total_amount: file.debits.iter().map(|d| d.amount).sum(),
            debits: file.debits.len(),
            file: bytes,
            digest,
            skipped,
        })
    }

    /// Reads the bank's result file: checked whole first, then each debit recorded once.
    pub async fn import_bank_debit_results(&self, bytes: &[u8]) -> Result<Imported, CommandError> {
        let file =
            DebitFile::decode_result(bytes).map_err(|e| invalid(e.line, e.field, e.reason))?;
        let rows = self.checked_rows(&file).await?;
        let mut done = Imported {
            debits: file.debits.len(),
            ..Imported::default()
        };
        for (debit, row) in file.debits.iter().zip(&rows) {
            if row.result_code.is_some() {
                done.already_imported += 1;
                continue;
            }
            let key = format!("bank-debit:{}", row.customer_number);
            let bill_id = atone_domain::validate::id("bill_id", &row.bill_id)?;
            let command = match debit.outcome {
                Outcome::Debited => Command::ReceivePayment(ReceivePayment {
                    transaction_id: key.clone(),
                    bill_id: Some(bill_id),
                    amount: row.amount,
                    received_at: self.handler.clock().now(),
                    hold: false,
                }),
                failed => Command::RecordDebitFailure(RecordDebitFailure {
                    bill_id,
                    code: failed.code().to_digit(10).unwrap_or(9) as u8,
                    reason: failed.reason().to_owned(),
                }),
            };
            let run = self
                .handler
                .carry_out(&row.user_id, &key, command, key.clone())
                .await?;
            match run.reply {
                Reply::ReceivePayment { .. } => {
                    done.debited += 1;
                    done.debited_amount += row.amount;
                }
                _ => done.failed += 1,
            }
            bank_debits::record_result(
                self.handler.store().db(),
                row.customer_number,
                debit.outcome.code(),
            )
            .await?;
        }
        tracing::info!(
            debits = done.debits,
            debited = done.debited,
            failed = done.failed,
            already = done.already_imported,
            "bank-debit result file imported"
        );
        Ok(done)
    }

    /// The exported row of each debit of `file`, in order; an error naming the line and the
    /// field for the first debit that is not one atone exported as it stands.
    async fn checked_rows(&self, file: &DebitFile) -> Result<Vec<DebitRow>, CommandError> {
        let mut numbers = Vec::with_capacity(file.debits.len());
        for (i, debit) in file.debits.iter().enumerate() {
            let number = debit
                .customer_number
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    invalid(i + 2, "顧客番号", "is not a customer number atone wrote")
                })?;
            numbers.push(number);
        }
        let found = bank_debits::debits_numbered(self.handler.store().db(), &numbers).await?;
        let mut seen = std::collections::BTreeSet::new();
        let mut rows = Vec::with_capacity(numbers.len());
        for (i, (debit, number)) in file.debits.iter().zip(&numbers).enumerate() {
            let line = i + 2;
            let row = found
                .get(number)
                .ok_or_else(|| invalid(line, "顧客番号", format!("{number} was never exported")))?;
            if !seen.insert(*number) {
                return Err(invalid(
                    line,
                    "顧客番号",
                    format!("{number} is in the file twice"),
                ));
            }
            let (month, day) = (row.debit_date.month(), row.debit_date.day());
            if (file.header.debit_month, file.header.debit_day) != (month, day) {
                return Err(invalid(
                    1,
                    "引落日",
                    format!(
                        "{:02}{:02}, but customer number {number} was exported to be drawn on {}",
                        file.header.debit_month, file.header.debit_day, row.debit_date
                    ),
                ));
            }
            if debit.amount != row.amount {
                return Err(invalid(
                    line,
                    "引落金額",
                    format!("{} yen, but {} yen was exported", debit.amount, row.amount),
                ));
            }
            if let Some(code) = &row.result_code
                && *code != debit.outcome.code().to_string()
            {
                return Err(invalid(
                    line,
                    "振替結果コード",
                    format!(
                        "{}, but an earlier result file gave customer number {number} the code {code}",
                        debit.outcome.code()
                    ),
                ));
            }
            rows.push(row.clone());
        }
        Ok(rows)
    }
}
