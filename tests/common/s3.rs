//! S3 on the moto emulator, as the backup tests read and tamper with it: buckets of their own,
//! objects put and read behind strata's back.

use aws_sdk_s3::primitives::ByteStream;

pub struct S3 {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
}

impl S3 {
    pub fn new() -> S3 {
        let url = super::moto_url().unwrap_or_else(|| {
            panic!("\n\nmoto is not running: run scripts/test.sh (it starts moto), or start one with: source scripts/services.sh && ensure_moto\n\n")
        });
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "strata-tests"))
            .endpoint_url(url)
            .force_path_style(true)
            .build();
        S3 { runtime, client: aws_sdk_s3::Client::from_conf(config) }
    }

    /// A new bucket with a name unique to this test.
    pub fn bucket(&self) -> String {
        let name = format!("strata-test-{}", super::moto::unique_suffix());
        self.runtime.block_on(self.client.create_bucket().bucket(&name).send()).expect("create bucket");
        name
    }

    pub fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        self.runtime.block_on(self.client.put_object().bucket(bucket).key(key).body(ByteStream::from(bytes)).send()).expect("put object");
    }

    pub fn get(&self, bucket: &str, key: &str) -> Vec<u8> {
        let object = self.runtime.block_on(self.client.get_object().bucket(bucket).key(key).send()).expect("get object");
        self.runtime.block_on(object.body.collect()).expect("read object").into_bytes().to_vec()
    }

    /// The keys under `prefix`, in order.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let listed = self.runtime.block_on(self.client.list_objects_v2().bucket(bucket).prefix(prefix).send()).expect("list objects");
        listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect()
    }

    /// The object's tags as (key, value).
    pub fn tags(&self, bucket: &str, key: &str) -> Vec<(String, String)> {
        let tags = self.runtime.block_on(self.client.get_object_tagging().bucket(bucket).key(key).send()).expect("get tags");
        tags.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
    }
}
