//! A member's row: `members` ↔ [`MemberRow`].

use atone_projection::MemberRow;
use sea_orm::ActiveValue::Set;

use super::{corrupt, method_name, method_of};
use crate::StorageError;
use crate::entity::members;

pub(crate) fn member_row(m: members::Model) -> Result<MemberRow, StorageError> {
    let payment_method = method_of(&m.payment_method)
        .ok_or_else(|| corrupt("member", &m.user_id, "payment_method", &m.payment_method))?;
    let bank_account = match &m.bank_account {
        None => None,
        Some(json) => Some(serde_json::from_str(json).map_err(|e| {
            StorageError::Corrupt(format!("member {}: bank_account: {e}", m.user_id))
        })?),
    };
    Ok(MemberRow {
        user_id: m.user_id,
        credit_limit: m.credit_limit,
        outstanding_amount: m.outstanding_amount,
        version: m.version,
        payment_method,
        credit_balance: m.credit_balance,
        unapplied_balance: m.unapplied_balance,
        overdue_bills: m.overdue_bills,
        bank_account,
    })
}

pub(crate) fn member_model(row: &MemberRow) -> members::ActiveModel {
    members::ActiveModel {
        user_id: Set(row.user_id.clone()),
        credit_limit: Set(row.credit_limit),
        outstanding_amount: Set(row.outstanding_amount),
        version: Set(row.version),
        updated_at: Set(chrono::Utc::now()),
        payment_method: Set(method_name(row.payment_method).to_owned()),
        credit_balance: Set(row.credit_balance),
        unapplied_balance: Set(row.unapplied_balance),
        overdue_bills: Set(row.overdue_bills),
        bank_account: Set(row
            .bank_account
            .as_ref()
            .map(|a| serde_json::json!(a.masked()).to_string())),
    }
}

#[cfg(test)]
mod tests {
    use atone_domain::{AccountKind, BankAccount, PaymentMethod};
    use sea_orm::{ActiveModelTrait, EntityTrait};

    use super::*;

    /// Every column written and read back: a field the mapping forgot comes back changed.
    #[tokio::test]
    async fn a_member_row_comes_back_from_the_database_as_it_went_in() {
        let db = super::super::test_db::sqlite().await;
        let row = MemberRow {
            user_id: "member-1".into(),
            credit_limit: 70_000,
            outstanding_amount: 12_345,
            version: 17,
            payment_method: PaymentMethod::BankDebit,
            credit_balance: 321,
            unapplied_balance: 45,
            overdue_bills: 2,
            bank_account: Some(Box::new(BankAccount {
                bank_code: "0001".into(),
                bank_name: "ﾐｽﾞﾎ".into(),
                branch_code: "001".into(),
                branch_name: "ﾎﾝﾃﾝ".into(),
                kind: AccountKind::Checking,
                number: "****567".into(),
                holder: "ﾔﾏﾀﾞ ﾀﾛｳ".into(),
            })),
        };
        member_model(&row).insert(&db.conn).await.expect("insert");
        let stored = members::Entity::find_by_id("member-1")
            .one(&db.conn)
            .await
            .expect("read")
            .expect("the row");
        assert_eq!(member_row(stored).expect("a member row"), row);
    }
}
