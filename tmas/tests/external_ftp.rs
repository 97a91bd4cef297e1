//! Delivery to a real FTP server we did not write (pyftpdlib, started by `scripts/ftp-server.sh`).
//!
//! Reads `TMAS_TEST_FTP_URL` (e.g. `ftp://user:pass@127.0.0.1:2121/`). Without it the tests say
//! they were skipped, unless `TMAS_REQUIRE_EXTERNAL_FTP=1`, in which case they fail.

use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use rust_decimal_macros::dec;
use suppaftp::tokio::AsyncFtpStream;
use tmas::delivery::{
    Deliver, DeliveryError, FileKind, FtpTarget, ImportFile, RetryPolicy, SummaryFile, TEMP_SUFFIX,
    file_name,
};
use tmas::{DateRange, Interval, LocationId, SummaryData, SummaryFormat, SummarySpec, WriteError};
use tokio::io::{AsyncWrite, AsyncWriteExt};

fn server_url(test: &str) -> Option<String> {
    match std::env::var("TMAS_TEST_FTP_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("TMAS_REQUIRE_EXTERNAL_FTP").as_deref() == Ok("1") {
                panic!("TMAS_TEST_FTP_URL is not set but TMAS_REQUIRE_EXTERNAL_FTP=1");
            }
            eprintln!(
                "skipped {test}: TMAS_TEST_FTP_URL is not set (start one with scripts/ftp-server.sh)"
            );
            None
        }
    }
}

async fn list(url: &str) -> Vec<String> {
    let u = url::Url::parse(url).unwrap();
    let mut ftp = AsyncFtpStream::connect((u.host_str().unwrap(), u.port().unwrap_or(21)))
        .await
        .unwrap();
    ftp.login(u.username(), u.password().unwrap_or(""))
        .await
        .unwrap();
    let names = ftp.nlst(None).await.unwrap();
    let _ = ftp.quit().await;
    names
}

async fn fetch(url: &str, name: &str) -> Vec<u8> {
    let u = url::Url::parse(url).unwrap();
    let mut ftp = AsyncFtpStream::connect((u.host_str().unwrap(), u.port().unwrap_or(21)))
        .await
        .unwrap();
    ftp.login(u.username(), u.password().unwrap_or(""))
        .await
        .unwrap();
    ftp.transfer_type(suppaftp::types::FileType::Binary)
        .await
        .unwrap();
    let mut stream = ftp.retr_as_stream(name).await.unwrap();
    let mut bytes = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut bytes)
        .await
        .unwrap();
    stream.finish().await.unwrap();
    let _ = ftp.quit().await;
    bytes
}

fn sample_file(location: &str) -> SummaryFile<SummaryData> {
    let day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
    let loc = LocationId::new(location).unwrap();
    let spec = SummarySpec::new(
        SummaryFormat::default(),
        Interval::Hour,
        DateRange::day(day),
        [loc.clone()],
    )
    .unwrap();
    let mut data = SummaryData::new(Interval::Hour);
    data.add_sale(
        &loc,
        &Amsterdam,
        Utc.with_ymd_and_hms(2026, 10, 25, 9, 15, 0).unwrap(),
        dec!(12.34),
        dec!(2),
    );
    SummaryFile::new(spec, data)
}

#[tokio::test]
async fn upload_and_rename_on_a_real_server() {
    let Some(url) = server_url("upload_and_rename_on_a_real_server") else {
        return;
    };
    let file = sample_file("EXT-1");
    let created = Utc::now();
    let name = file_name(&file, created);
    let delivered = FtpTarget::from_url(&url)
        .unwrap()
        .deliver(&name, &file)
        .await
        .unwrap();
    assert_eq!(delivered.attempts, 1);
    let names = list(&url).await;
    assert!(names.iter().any(|n| n.ends_with(&name)), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with(TEMP_SUFFIX)), "{names:?}");
    assert_eq!(fetch(&url, &name).await, file.to_bytes().unwrap());
}

/// A file whose connection breaks after 100 KiB, every time.
struct BreaksMidway;

#[async_trait::async_trait]
impl ImportFile for BreaksMidway {
    fn kind(&self) -> FileKind {
        FileKind::Summary
    }
    fn locations(&self) -> &[LocationId] {
        &[]
    }
    fn range(&self) -> DateRange {
        DateRange::day(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
    }
    fn extension(&self) -> &'static str {
        "csv"
    }
    async fn write_to(&self, out: &mut (dyn AsyncWrite + Unpin + Send)) -> Result<u64, WriteError> {
        out.write_all(&vec![b'x'; 100 * 1024]).await?;
        out.flush().await?;
        Err(WriteError::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "link lost",
        )))
    }
}

#[tokio::test]
async fn interrupted_upload_leaves_no_file_under_the_final_name() {
    let Some(url) = server_url("interrupted_upload_leaves_no_file_under_the_final_name") else {
        return;
    };
    let target = FtpTarget::from_url(&url).unwrap().retry(RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(50),
    });
    let name = format!(
        "tmas-summary_interrupted_{}.csv",
        Utc::now().format("%Y%m%dT%H%M%S%.f")
    );
    let err = target.deliver(&name, &BreaksMidway).await.unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Ftp {
                attempts: 2,
                transient: true,
                ..
            }
        ),
        "{err}"
    );
    let names = list(&url).await;
    assert!(!names.iter().any(|n| n.ends_with(&name)), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.contains(&name) && n.ends_with(TEMP_SUFFIX)),
        "partial upload removed: {names:?}"
    );
    if let Ok(dir) = std::env::var("TMAS_TEST_FTP_DIR") {
        assert!(!std::path::Path::new(&dir).join(&name).exists());
    }
}
