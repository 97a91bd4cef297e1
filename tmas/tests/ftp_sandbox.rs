//! Delivery to the sandbox FTP server, which imports files as TMAS does.
#![cfg(feature = "sandbox")]

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use rust_decimal_macros::dec;
use tmas::delivery::{Deliver, Delivery, DeliveryError, SummaryFile, file_name};
use tmas::sandbox::{FtpSandbox, ImportSettings, ReceivedKind};
use tmas::{
    DateRange, Interval, IntervalStart, LocationId, SummaryData, SummaryFormat, SummaryRow,
    SummarySpec, Totals,
};

fn loc(id: &str) -> LocationId {
    LocationId::new(id).unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
}

fn spec(locations: &[&str]) -> SummarySpec {
    SummarySpec::new(
        SummaryFormat::default(),
        Interval::Hour,
        DateRange::day(day()),
        locations.iter().map(|l| loc(l)),
    )
    .unwrap()
}

#[tokio::test]
async fn upload_is_imported_and_reimport_replaces_rows() {
    let sandbox = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    let target = Delivery::Ftp(sandbox.target());

    let mut data = SummaryData::new(Interval::Hour);
    let at = Utc.with_ymd_and_hms(2026, 3, 29, 12, 10, 0).unwrap(); // 14:10 CEST
    data.add_sale(&loc("0001"), &Amsterdam, at, dec!(19.99), dec!(2));
    let file = SummaryFile::new(spec(&["0001", "0002"]), data);
    let created = Utc.with_ymd_and_hms(2026, 3, 30, 0, 2, 0).unwrap();
    let delivered = target.send(&file, created).await.unwrap();
    assert_eq!(delivered.attempts, 1);
    assert!(
        delivered.name.starts_with("tmas-summary_2loc-"),
        "{}",
        delivered.name
    );
    assert!(
        delivered
            .name
            .ends_with("_20260329-20260329_20260330T000200Z.csv")
    );

    assert_eq!(sandbox.files(), vec![delivered.name.clone()]);
    assert_eq!(
        sandbox.file(&delivered.name).unwrap(),
        file.to_bytes().unwrap()
    );
    let imports = sandbox.imports();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].kind, ReceivedKind::Summary);
    assert_eq!(imports[0].result, Ok(48));
    let h14 = IntervalStart::new(14, 0).unwrap();
    let t = sandbox.summary(&loc("0001"), day(), h14).unwrap();
    assert_eq!(
        (t.sales, t.transactions, t.items),
        (dec!(19.99), 1, dec!(2))
    );
    assert_eq!(
        sandbox.summary(&loc("0002"), day(), h14).unwrap(),
        Totals::default()
    );

    // A corrected re-send of the same hour replaces, not adds.
    let corrected = vec![SummaryRow {
        location: loc("0001"),
        date: day(),
        start: h14,
        totals: Totals {
            sales: dec!(9.99),
            transactions: 1,
            items: dec!(1),
            staff_hours: None,
        },
    }];
    let file = SummaryFile::new(spec(&["0001"]), corrected);
    target.send(&file, created).await.unwrap();
    let t = sandbox.summary(&loc("0001"), day(), h14).unwrap();
    assert_eq!((t.sales, t.items), (dec!(9.99), dec!(1)));
    assert_eq!(sandbox.summary_rows().len(), 48);
}

#[tokio::test]
async fn malformed_file_is_rejected_with_reason() {
    // The account expects semicolons; this file uses commas.
    let settings_file = SummaryFile::new(spec(&["0001"]), SummaryData::new(Interval::Hour));
    let sandbox2 = FtpSandbox::start(ImportSettings {
        summary: SummaryFormat {
            delimiter: tmas::Delimiter::Semicolon,
            ..SummaryFormat::default()
        },
        ..ImportSettings::default()
    })
    .await
    .unwrap();
    sandbox2
        .target()
        .deliver("tmas-summary_x.csv", &settings_file)
        .await
        .unwrap();
    let imports = sandbox2.imports();
    let err = imports[0].result.clone().unwrap_err();
    assert_eq!(err.line, Some(1));
    assert!(err.reason.contains("header"), "{err}");
    assert!(sandbox2.summary_rows().is_empty());
}

#[tokio::test]
async fn interrupted_upload_is_retried_and_never_visible_under_the_final_name() {
    let sandbox = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    let file = SummaryFile::new(spec(&["0001"]), SummaryData::new(Interval::Hour));
    let name = file_name(&file, Utc.with_ymd_and_hms(2026, 3, 30, 0, 2, 0).unwrap());

    // First attempt is cut after 100 bytes; the retry completes.
    sandbox.cut_next_uploads(&[100]);
    let delivered = sandbox.target().deliver(&name, &file).await.unwrap();
    assert_eq!(delivered.attempts, 2);
    assert_eq!(sandbox.files(), vec![name.clone()]);
    assert_eq!(
        sandbox.imports().len(),
        1,
        "only the complete file was imported"
    );

    // Every attempt cut: the delivery fails and nothing exists under the final name.
    let sandbox = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    sandbox.cut_next_uploads(&[100, 100, 100]);
    let err = sandbox.target().deliver(&name, &file).await.unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Ftp {
                attempts: 3,
                transient: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(!sandbox.files().contains(&name), "{:?}", sandbox.files());
    assert!(sandbox.imports().is_empty());
}

#[tokio::test]
async fn content_error_mid_upload_leaves_nothing_under_the_final_name() {
    let sandbox = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    // Rows out of order: the writer fails after streaming part of the file.
    let h = |x| IntervalStart::new(x, 0).unwrap();
    let row = |start| SummaryRow {
        location: loc("0001"),
        date: day(),
        start,
        totals: Totals::default(),
    };
    let file = SummaryFile::new(spec(&["0001"]), vec![row(h(20)), row(h(3))]);
    let err = sandbox
        .target()
        .deliver("tmas-summary_bad.csv", &file)
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Write(_)), "{err}");
    assert!(sandbox.files().is_empty(), "{:?}", sandbox.files());
    assert!(sandbox.imports().is_empty());
}

#[tokio::test]
async fn wrong_password_is_not_retried() {
    let sandbox = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    let url = format!("ftp://tmas:wrong@{}/", sandbox.addr());
    let target = tmas::delivery::FtpTarget::from_url(&url).unwrap();
    let file = SummaryFile::new(spec(&["0001"]), SummaryData::new(Interval::Hour));
    let err = target.deliver("a.csv", &file).await.unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Ftp {
                attempts: 1,
                transient: false,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn transaction_log_into_a_directory_is_imported_by_transaction() {
    use tmas::bucket::transaction_at;
    use tmas::delivery::TransactionLogFile;
    use tmas::{TransactionId, TransactionLogFormat, TransactionLogSpec};

    let sandbox = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    sandbox.create_dir("in/pos");
    let target = Delivery::Ftp(sandbox.target().directory("in/pos"));
    let spec = TransactionLogSpec::new(
        TransactionLogFormat::default(),
        DateRange::day(day()),
        [loc("0001")],
    )
    .unwrap();
    let tx = |id: &str, total| {
        transaction_at(
            loc("0001"),
            &Amsterdam,
            Utc.with_ymd_and_hms(2026, 3, 29, 9, 0, 0).unwrap(),
            TransactionId::new(id).unwrap(),
            dec!(1),
            total,
        )
    };
    let created = Utc.with_ymd_and_hms(2026, 3, 30, 0, 2, 0).unwrap();
    let file =
        TransactionLogFile::new(spec.clone(), vec![tx("R-1", dec!(10)), tx("R-2", dec!(20))]);
    let delivered = target.send(&file, created).await.unwrap();
    assert!(
        delivered.name.starts_with("tmas-transactions_0001_"),
        "{}",
        delivered.name
    );
    assert_eq!(sandbox.files(), vec![format!("in/pos/{}", delivered.name)]);
    assert_eq!(sandbox.imports()[0].kind, ReceivedKind::TransactionLog);
    // Re-sending R-2 corrected replaces it.
    let file = TransactionLogFile::new(spec, vec![tx("R-2", dec!(15))]);
    target.send(&file, created).await.unwrap();
    let totals: Vec<_> = sandbox.transactions().iter().map(|t| t.total).collect();
    assert_eq!(totals, vec![dec!(10), dec!(15)]);
    assert_eq!(
        sandbox.transactions()[0].local_time.to_string(),
        "2026-03-29 11:00:00"
    );
}

#[tokio::test]
async fn explicit_ftps_upload() {
    use std::sync::Arc;
    use suppaftp::tokio_rustls::rustls::{
        self, ClientConfig, RootCertStore, pki_types::CertificateDer, pki_types::pem::PemObject,
    };

    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ftps");
    let sandbox = FtpSandbox::start_ftps(
        ImportSettings::default(),
        format!("{fixtures}/server.pem"),
        format!("{fixtures}/server.key"),
    )
    .await
    .unwrap();
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(format!("{fixtures}/ca.pem")).unwrap())
        .unwrap();
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let target = sandbox
        .target()
        .explicit_tls("localhost", Some(Arc::new(config)));
    let file = SummaryFile::new(spec(&["0001"]), SummaryData::new(Interval::Hour));
    let delivered = target.deliver("tmas-summary_tls.csv", &file).await.unwrap();
    assert_eq!(delivered.attempts, 1);
    assert_eq!(sandbox.imports()[0].result, Ok(24));

    // Without the test CA the server certificate is refused, and that is not retried.
    let untrusted = sandbox.target().explicit_tls("localhost", None);
    let err = untrusted
        .deliver("tmas-summary_tls2.csv", &file)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Ftp {
                attempts: 1,
                transient: false,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn temporary_names_are_ignored_until_renamed() {
    use suppaftp::tokio::AsyncFtpStream;
    use tokio::io::AsyncWriteExt;

    let sandbox = FtpSandbox::start(ImportSettings::default()).await.unwrap();
    let mut ftp = AsyncFtpStream::connect(sandbox.addr()).await.unwrap();
    ftp.login(FtpSandbox::USER, FtpSandbox::PASSWORD)
        .await
        .unwrap();
    ftp.transfer_type(suppaftp::types::FileType::Binary)
        .await
        .unwrap();
    let body = b"Location ID,Date,Hour,Sales,Transactions,Items\r\n0001,03/29/2026,13,5.00,1,1\r\n";
    let mut upload = ftp.put_with_stream("day.csv.part").await.unwrap();
    upload.write_all(body).await.unwrap();
    upload.finish().await.unwrap();
    assert!(sandbox.imports().is_empty());
    assert_eq!(sandbox.files(), vec!["day.csv.part".to_owned()]);

    ftp.rename("day.csv.part", "day.csv").await.unwrap();
    assert_eq!(sandbox.imports()[0].result, Ok(1));
    let t = sandbox
        .summary(&loc("0001"), day(), IntervalStart::new(13, 0).unwrap())
        .unwrap();
    assert_eq!(t.sales, dec!(5.00));

    // A malformed line rejects the whole file, with the line and the reason.
    let mut upload = ftp.put_with_stream("bad.csv").await.unwrap();
    upload
        .write_all(b"Location ID,Date,Hour,Sales,Transactions,Items\r\n0001,03/29/2026,14,\"1,234.00\",1,1\r\n")
        .await
        .unwrap();
    upload.finish().await.unwrap();
    let err = sandbox.imports()[1].result.clone().unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(err.reason.contains("fields"), "{err}");
    assert!(
        sandbox
            .summary(&loc("0001"), day(), IntervalStart::new(14, 0).unwrap())
            .is_none()
    );
    let _ = ftp.quit().await;
}
