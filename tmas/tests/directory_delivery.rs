//! Delivery to a local directory.

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal_macros::dec;
use tmas::delivery::{Deliver, Delivery, DeliveryError, DirectoryTarget, SummaryFile};
use tmas::{
    DateRange, Interval, IntervalStart, LocationId, SummaryFormat, SummaryRow, SummarySpec, Totals,
};

fn spec() -> SummarySpec {
    let day = NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
    SummarySpec::new(
        SummaryFormat::default(),
        Interval::Hour,
        DateRange::day(day),
        [LocationId::new("0001").unwrap()],
    )
    .unwrap()
}

fn row(hour: u32) -> SummaryRow {
    SummaryRow {
        location: LocationId::new("0001").unwrap(),
        date: NaiveDate::from_ymd_opt(2026, 5, 4).unwrap(),
        start: IntervalStart::new(hour, 0).unwrap(),
        totals: Totals {
            sales: dec!(1.5),
            transactions: 1,
            items: dec!(1),
            staff_hours: None,
        },
    }
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn writes_complete_file_under_final_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let file = SummaryFile::new(spec(), vec![row(10)]);
    let created = Utc.with_ymd_and_hms(2026, 5, 5, 0, 2, 0).unwrap();
    let delivered = Delivery::Directory(DirectoryTarget::new(dir.path()))
        .send(&file, created)
        .await
        .unwrap();
    assert_eq!(
        delivered.name,
        "tmas-summary_0001_20260504-20260504_20260505T000200Z.csv"
    );
    assert_eq!(listing(dir.path()), vec![delivered.name.clone()]);
    let bytes = std::fs::read(dir.path().join(&delivered.name)).unwrap();
    assert_eq!(bytes, file.to_bytes().unwrap());
    assert_eq!(delivered.bytes, bytes.len() as u64);
    assert!(
        String::from_utf8(bytes)
            .unwrap()
            .contains("0001,05/04/2026,10,1.50,1,1\r\n")
    );
}

#[tokio::test]
async fn failed_write_leaves_no_file_at_all() {
    let dir = tempfile::tempdir().unwrap();
    // Out of order: fails after the first rows were written to the temporary file.
    let file = SummaryFile::new(spec(), vec![row(20), row(3)]);
    let err = DirectoryTarget::new(dir.path())
        .deliver("tmas-summary_x.csv", &file)
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Write(_)), "{err}");
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[tokio::test]
async fn refuses_path_names() {
    let dir = tempfile::tempdir().unwrap();
    let file = SummaryFile::new(spec(), vec![]);
    let err = DirectoryTarget::new(dir.path())
        .deliver("../escape.csv", &file)
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Config(_)), "{err}");
}
