//! The FTP sandbox's default TMAS account reads the summary layout with or without the optional
//! Staff Hours column, told apart by the header: so it accepts what `sync-core`'s TMAS flow
//! writes by default (with staff hours) as well as `SummaryFormat::default()` files.
#![cfg(feature = "sandbox")]

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use rust_decimal_macros::dec;
use tmas::delivery::{Delivery, SummaryFile};
use tmas::sandbox::{FtpSandbox, ImportSettings};
use tmas::{
    DateRange, Interval, IntervalStart, LocationId, SummaryData, SummaryFormat, SummarySpec,
};

fn loc() -> LocationId {
    LocationId::new("0001").unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
}

/// A day of one location with a sale at 14:10 and staff from 14:00 to 15:00, local time.
fn file(format: SummaryFormat) -> SummaryFile<SummaryData> {
    let spec = SummarySpec::new(format, Interval::Hour, DateRange::day(day()), [loc()]).unwrap();
    let mut data = SummaryData::new(Interval::Hour);
    let at = |h, m| Utc.with_ymd_and_hms(2026, 3, 29, h, m, 0).unwrap();
    data.add_sale(&loc(), &Amsterdam, at(12, 10), dec!(19.99), dec!(2));
    data.add_staff_time(&loc(), &Amsterdam, at(12, 0), at(13, 0));
    SummaryFile::new(spec, data)
}

const WITH_STAFF: SummaryFormat = SummaryFormat {
    staff_hours: true,
    ..tmas_default()
};

const fn tmas_default() -> SummaryFormat {
    SummaryFormat {
        delimiter: tmas::Delimiter::Comma,
        date_format: tmas::DateFormat::MonthDayYear,
        time_column: tmas::TimeColumn::Hour,
        line_ending: tmas::LineEnding::CrLf,
        header: true,
        staff_hours: false,
    }
}

#[tokio::test]
async fn the_default_account_reads_files_with_and_without_staff_hours() {
    assert_eq!(tmas_default(), SummaryFormat::default());
    let sandbox = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    let target = Delivery::Ftp(sandbox.target());
    let created = Utc.with_ymd_and_hms(2026, 3, 30, 0, 2, 0).unwrap();
    let two_pm = IntervalStart::new(14, 0).unwrap();

    target.send(&file(WITH_STAFF), created).await.unwrap();
    assert_eq!(
        sandbox.imports()[0].result,
        Ok(24),
        "{:?}",
        sandbox.imports()
    );
    let t = sandbox.summary(&loc(), day(), two_pm).unwrap();
    assert_eq!((t.sales, t.staff_hours), (dec!(19.99), Some(dec!(1.00))));

    let later = created + chrono::Duration::minutes(1);
    target
        .send(&file(SummaryFormat::default()), later)
        .await
        .unwrap();
    assert_eq!(
        sandbox.imports()[1].result,
        Ok(24),
        "{:?}",
        sandbox.imports()
    );
    let t = sandbox.summary(&loc(), day(), two_pm).unwrap();
    assert_eq!((t.sales, t.staff_hours), (dec!(19.99), None));
}

#[tokio::test]
async fn a_strict_account_rejects_the_column_it_was_not_set_up_for() {
    let sandbox = FtpSandbox::start(ImportSettings {
        staff_hours_by_header: false,
        ..ImportSettings::default()
    })
    .await
    .unwrap();
    let target = Delivery::Ftp(sandbox.target());
    let created = Utc.with_ymd_and_hms(2026, 3, 30, 0, 2, 0).unwrap();
    target.send(&file(WITH_STAFF), created).await.unwrap();
    let err = sandbox.imports()[0].result.clone().unwrap_err();
    assert_eq!(err.line, Some(1));
    assert!(err.reason.contains("Staff Hours"), "{err}");
    assert!(sandbox.summary_rows().is_empty());
    // Without a header the column count decides: the configured layout only.
    let settings = ImportSettings {
        summary: SummaryFormat {
            header: false,
            ..SummaryFormat::default()
        },
        ..ImportSettings::default()
    };
    assert_eq!(
        settings.summary_format_for(b"0001,03/29/2026,14,1.00,1,1,1.00"),
        settings.summary
    );
    let with_staff_header = b"Location ID,Date,Hour,Sales,Transactions,Items,Staff Hours\r\n";
    assert!(
        ImportSettings::default()
            .summary_format_for(with_staff_header)
            .staff_hours
    );
    assert!(!settings.summary_format_for(with_staff_header).staff_hours);
}
