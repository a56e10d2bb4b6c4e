//! Reading typed values out of rows. Stored values are outside input too: a bad one becomes
//! `StoreError::Corrupt` naming the column, never a panic.

use crate::{Result, StoreError};
use jiff::{Timestamp, civil::Date};
use sqlx::{Row, any::AnyRow};

pub fn text(row: &AnyRow, col: &str) -> Result<String> {
    row.try_get::<String, _>(col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    row.try_get::<Option<String>, _>(col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn int(row: &AnyRow, col: &str) -> Result<i64> {
    row.try_get::<i64, _>(col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    row.try_get::<Option<i64>, _>(col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn opt_f64(row: &AnyRow, col: &str) -> Result<Option<f64>> {
    row.try_get::<Option<f64>, _>(col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(int(row, col)? != 0)
}

pub fn u32_of(row: &AnyRow, col: &str) -> Result<u32> {
    u32::try_from(int(row, col)?).map_err(|_| StoreError::Corrupt(format!("{col}: out of range")))
}

pub fn date(row: &AnyRow, col: &str) -> Result<Date> {
    parse_date(col, &text(row, col)?)
}

pub fn opt_date(row: &AnyRow, col: &str) -> Result<Option<Date>> {
    opt_text(row, col)?.map(|s| parse_date(col, &s)).transpose()
}

fn parse_date(col: &str, s: &str) -> Result<Date> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("{col}: {s:?} is not a date: {e}")))
}

pub fn opt_timestamp(row: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    opt_int(row, col)?
        .map(|ms| {
            Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
        })
        .transpose()
}

pub fn timestamp(row: &AnyRow, col: &str) -> Result<Timestamp> {
    opt_timestamp(row, col)?.ok_or_else(|| StoreError::Corrupt(format!("{col}: missing")))
}

pub fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Result<T> {
    let s = text(row, col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub fn opt_json<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Result<Option<T>> {
    opt_text(row, col)?
        .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

/// A value to store as JSON text.
pub fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(e.to_string()))
}

pub fn date_text(d: Date) -> String {
    d.to_string()
}

pub fn opt_date_text(d: Option<Date>) -> Option<String> {
    d.map(date_text)
}
