//! An S3 bucket and prefix as a backup destination, through the AWS SDK.
//!
//! A backup is dumped and verified in a local staging directory, then uploaded: the dump (each
//! file of a directory-format dump under `NAME/`), then its manifest, last, so a dump without
//! a manifest is a backup that never finished. Every object is tagged `strata:policy=TOKEN`:
//! a prune or a sweep removes only what carries the policy's own tag, so an object someone
//! else put under the prefix with a look-alike name is left alone. A bucket lifecycle rule
//! may expire backups too, as a backstop; strata's retention does not rely on one.

use std::path::{Path, PathBuf};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use strata_provider_sdk::ProviderError;

use crate::backup::artefacts::{dump_files, io_error, manifest_name, prefix, Artefact, Condition, Manifest, WRITTEN_BY};

/// The tag naming the policy (by its token) that wrote an object.
pub const POLICY_TAG: &str = "strata:policy";

/// Files above this size go up in parts of this size: one PUT takes at most 5 GiB, and a
/// failed part is retried alone.
const PART_BYTES: u64 = 64 * 1024 * 1024;

/// Manifests read at once while listing.
const CONCURRENT_READS: usize = 16;

/// Where in S3 a policy keeps its backups, and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    /// Empty, or ending in `/`.
    pub prefix: String,
    pub region: Option<String>,
    /// An S3-compatible endpoint (MinIO, an emulator) instead of AWS's.
    pub endpoint: Option<String>,
    /// Path-style addressing; by default on exactly when an endpoint is overridden.
    pub path_style: Option<bool>,
}

impl Location {
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Checks a bucket name against S3's rules, so a typo fails the plan, not the upload.
    pub fn check_bucket(bucket: &str) -> Result<(), ProviderError> {
        let allowed = bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let ends = bucket.bytes().next().zip(bucket.bytes().last()).is_some_and(|(first, last)| first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric());
        if (3..=63).contains(&bucket.len()) && allowed && ends && !bucket.contains("..") {
            return Ok(());
        }
        Err(ProviderError::new(format!("s3_bucket \"{bucket}\" is not an S3 bucket name"))
            .with_hint("a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"))
    }
}

/// An opened S3 destination.
pub struct Bucket {
    location: Location,
    client: aws_sdk_s3::Client,
}

/// One object under the policy's prefix.
struct Object {
    key: String,
    bytes: u64,
}

const ACCESS_HINT: &str = "check the destination's bucket, region and endpoint, and that the credentials may list, read, write, tag and delete objects there";

/// A failure that is not S3's answer: a local file, a body cut short.
fn failed(what: String, err: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(format!("{what}: {err}")).with_hint(ACCESS_HINT)
}

/// An S3 call's failure, short: the service's code and message; for an answer the SDK could not
/// read, its HTTP status; otherwise the SDK's account of it (a connection refused, a timeout).
fn sdk_failed<E>(what: String, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = match (err.code(), err.raw_response()) {
        (Some(code), _) => format!("{code}: {}", err.message().unwrap_or_default()),
        (None, Some(raw)) => format!("an answer strata could not read (HTTP {})", raw.status().as_u16()),
        (None, None) => DisplayErrorContext(&err).to_string(),
    };
    let hint = if err.code() == Some("NoSuchBucket") { "create the bucket first: strata writes into a bucket, it does not create one" } else { ACCESS_HINT };
    ProviderError::new(format!("{what}: {detail}")).with_hint(hint)
}

impl Bucket {
    /// The client for `location`, from the SDK's standard chains (AWS_REGION, profiles, instance
    /// roles, AWS_ENDPOINT_URL) with what the destination block sets on top. Calls no API.
    pub async fn open(location: &Location) -> Result<Bucket, ProviderError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &location.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let shared = loader.load().await;
        if shared.region().is_none() {
            return Err(ProviderError::new(format!("no AWS region is configured for {}", location.url())).with_hint("set s3_region in the destination block, or AWS_REGION"));
        }
        let mut config = aws_sdk_s3::config::Builder::from(&shared);
        if let Some(endpoint) = &location.endpoint {
            config = config.endpoint_url(endpoint);
        }
        // An overridden endpoint is an address or a private host name, where the bucket's own
        // host name (virtual-hosted style) would not resolve.
        let overridden = location.endpoint.is_some() || shared.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        config = config.force_path_style(location.path_style.unwrap_or(overridden));
        Ok(Bucket { location: location.clone(), client: aws_sdk_s3::Client::from_conf(config.build()) })
    }

    fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.location.bucket)
    }

    async fn objects(&self, under: &str) -> Result<Vec<Object>, ProviderError> {
        let prefix = self.location.key(under);
        let mut pages = self.client.list_objects_v2().bucket(&self.location.bucket).prefix(&prefix).into_paginator().send();
        let mut objects = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| sdk_failed(format!("cannot list {}", self.url_of(&prefix)), err))?;
            for object in page.contents() {
                let bytes = object.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
                objects.extend(object.key().map(|key| Object { key: key.to_owned(), bytes }));
            }
        }
        Ok(objects)
    }

    async fn read_manifest(&self, key: &str) -> Result<Manifest, ProviderError> {
        let read = |err| sdk_failed(format!("cannot read {}", self.url_of(key)), err);
        let object = self.client.get_object().bucket(&self.location.bucket).key(key).send().await.map_err(read)?;
        let body = object.body.collect().await.map_err(|err| failed(format!("cannot read {}", self.url_of(key)), err))?;
        Manifest::parse(&String::from_utf8_lossy(&body.into_bytes()), &self.url_of(key))
    }

    /// The policy's backups: one listing, then the manifests, a few at a time.
    pub async fn list(&self, token: &str) -> Result<Vec<Artefact>, ProviderError> {
        let objects = self.objects(&prefix(token)).await?;
        let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).filter(|key| key.ends_with(".manifest.json")).collect();
        let mut manifests = Vec::with_capacity(keys.len());
        for batch in keys.chunks(CONCURRENT_READS) {
            let reads: Vec<_> = batch.iter().map(|key| self.read_manifest(key)).collect();
            manifests.extend(futures::future::try_join_all(reads).await?);
        }
        let artefacts = manifests.into_iter().filter(|m| m.written_by == WRITTEN_BY && m.policy == token).map(|manifest| {
            let key = self.location.key(&manifest.file);
            let dump_bytes = dump_objects(&objects, &key).map(|o| o.bytes).reduce(|a, b| a + b);
            let condition = match dump_bytes {
                Some(bytes) if bytes == manifest.bytes => Condition::Present,
                Some(_) => Condition::Damaged,
                None => Condition::Missing,
            };
            Artefact { location: self.url_of(&key), manifest, condition }
        });
        Ok(artefacts.collect())
    }

    fn tagging(token: &str) -> String {
        form_urlencoded::Serializer::new(String::new()).append_pair(POLICY_TAG, token).append_pair("strata:written-by", WRITTEN_BY).finish()
    }

    /// Uploads the backup staged in `staged`: the dump's files, then the manifest.
    pub async fn publish(&self, staged: &Path, manifest: &Manifest) -> Result<(), ProviderError> {
        let dump = staged.join(&manifest.file);
        let files: Vec<(PathBuf, String)> = if dump.is_dir() {
            let files = dump_files(&dump).map_err(|err| io_error("cannot read", &dump, &err))?;
            files.into_iter().map(|file| {
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                (file, self.location.key(&format!("{}/{name}", manifest.file)))
            }).collect()
        } else {
            vec![(dump, self.location.key(&manifest.file))]
        };
        let tagging = Bucket::tagging(&manifest.policy);
        for (file, key) in &files {
            self.upload(file, key, &tagging).await?;
        }
        let key = self.location.key(&manifest_name(&manifest.policy, &manifest.backup_id));
        let put = self.client.put_object().bucket(&self.location.bucket).key(&key).tagging(&tagging).content_type("application/json");
        put.body(ByteStream::from(manifest.to_json().into_bytes())).send().await.map_err(|err| sdk_failed(format!("cannot write {}", self.url_of(&key)), err))?;
        Ok(())
    }

    async fn upload(&self, file: &Path, key: &str, tagging: &str) -> Result<(), ProviderError> {
        let bytes = std::fs::metadata(file).map_err(|err| io_error("cannot read", file, &err))?.len();
        if bytes > PART_BYTES {
            return self.upload_in_parts(file, key, tagging, bytes).await;
        }
        let body = ByteStream::from_path(file).await.map_err(|err| failed(format!("cannot read {}", file.display()), err))?;
        let put = self.client.put_object().bucket(&self.location.bucket).key(key).tagging(tagging).body(body);
        put.send().await.map_err(|err| sdk_failed(format!("cannot upload {}", self.url_of(key)), err))?;
        Ok(())
    }

    /// A multipart upload; aborted on any failure, so no invisible parts are left to pay for.
    async fn upload_in_parts(&self, file: &Path, key: &str, tagging: &str, bytes: u64) -> Result<(), ProviderError> {
        let bucket = &self.location.bucket;
        let created = self.client.create_multipart_upload().bucket(bucket).key(key).tagging(tagging).send().await;
        let created = created.map_err(|err| sdk_failed(format!("cannot start uploading {}", self.url_of(key)), err))?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        let uploaded = self.upload_parts(file, key, &upload_id, bytes).await;
        let completed = match uploaded {
            Ok(parts) => {
                let parts = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
                let complete = self.client.complete_multipart_upload().bucket(bucket).key(key).upload_id(&upload_id).multipart_upload(parts);
                match complete.send().await {
                    Ok(_) => Ok(()),
                    // S3 took the request but its answer did not parse (moto 5.2.1 names the
                    // answer's root element wrongly): whether the object is whole is HeadObject's to say.
                    Err(err) if err.raw_response().is_some_and(|raw| raw.status().as_u16() == 200) => self.check_size(key, bytes).await,
                    Err(err) => Err(sdk_failed(format!("cannot finish uploading {}", self.url_of(key)), err)),
                }
            }
            Err(err) => Err(err),
        };
        if completed.is_err() {
            let _ = self.client.abort_multipart_upload().bucket(bucket).key(key).upload_id(&upload_id).send().await;
        }
        completed
    }

    async fn check_size(&self, key: &str, bytes: u64) -> Result<(), ProviderError> {
        let head = self.client.head_object().bucket(&self.location.bucket).key(key).send().await;
        let head = head.map_err(|err| sdk_failed(format!("cannot read back {}", self.url_of(key)), err))?;
        match head.content_length().and_then(|n| u64::try_from(n).ok()) {
            Some(found) if found == bytes => Ok(()),
            found => Err(ProviderError::new(format!("{} holds {} bytes after the upload, not {bytes}", self.url_of(key), found.unwrap_or(0))).with_hint(ACCESS_HINT)),
        }
    }

    async fn upload_parts(&self, file: &Path, key: &str, upload_id: &str, bytes: u64) -> Result<Vec<CompletedPart>, ProviderError> {
        let mut parts = Vec::new();
        let mut offset = 0;
        for number in 1.. {
            if offset >= bytes {
                break;
            }
            let length = PART_BYTES.min(bytes - offset);
            let body = ByteStream::read_from().path(file).offset(offset).length(Length::Exact(length)).build().await;
            let body = body.map_err(|err| failed(format!("cannot read {}", file.display()), err))?;
            let part = self.client.upload_part().bucket(&self.location.bucket).key(key).upload_id(upload_id).part_number(number).body(body).send().await;
            let part = part.map_err(|err| sdk_failed(format!("cannot upload part {number} of {}", self.url_of(key)), err))?;
            parts.push(CompletedPart::builder().set_e_tag(part.e_tag().map(str::to_owned)).part_number(number).build());
            offset += length;
        }
        Ok(parts)
    }

    /// Whether the object carries the policy's own tag.
    async fn tagged_as(&self, key: &str, token: &str) -> Result<bool, ProviderError> {
        let tags = self.client.get_object_tagging().bucket(&self.location.bucket).key(key).send().await;
        let tags = tags.map_err(|err| sdk_failed(format!("cannot read the tags of {}", self.url_of(key)), err))?;
        Ok(tags.tag_set().iter().any(|tag| tag.key() == POLICY_TAG && tag.value() == token))
    }

    async fn delete(&self, keys: Vec<String>) -> Result<(), ProviderError> {
        for batch in keys.chunks(1000) {
            let objects: Vec<ObjectIdentifier> = batch.iter().filter_map(|key| ObjectIdentifier::builder().key(key).build().ok()).collect();
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|err| failed("cannot build a delete".into(), err))?;
            let answer = self.client.delete_objects().bucket(&self.location.bucket).delete(delete).send().await;
            let answer = answer.map_err(|err| sdk_failed(format!("cannot delete from {}", self.location.url()), err))?;
            if let Some(error) = answer.errors().first() {
                return Err(ProviderError::new(format!("cannot delete {}: {}", self.url_of(error.key().unwrap_or_default()), error.message().unwrap_or_default())));
            }
        }
        Ok(())
    }

    /// Removes a backup, manifest first (see the local store); only when the manifest carries
    /// the policy's tag.
    pub async fn remove(&self, artefact: &Artefact) -> Result<(), ProviderError> {
        let token = &artefact.manifest.policy;
        let manifest = self.location.key(&manifest_name(token, &artefact.manifest.backup_id));
        if !self.tagged_as(&manifest, token).await? {
            return Err(ProviderError::new(format!("{} lacks the tag {POLICY_TAG}={token}: strata does not remove what it cannot prove it wrote", self.url_of(&manifest)))
                .with_hint("remove the backup by hand if it is no longer needed, or tag it if strata wrote it"));
        }
        self.delete(vec![manifest]).await?;
        let objects = self.objects(&artefact.manifest.file).await?;
        self.delete(dump_objects(&objects, &self.location.key(&artefact.manifest.file)).map(|o| o.key.clone()).collect()).await
    }

    /// Removes what an interrupted backup or prune of this policy left (dumps no manifest names,
    /// unfinished multipart uploads), each only when tagged as the policy's.
    pub async fn sweep_leftovers(&self, token: &str, listed: &[Artefact]) -> Result<Vec<String>, ProviderError> {
        let objects = self.objects(&prefix(token)).await?;
        let mut leftovers: Vec<&str> = objects
            .iter()
            .filter(|o| !o.key.ends_with(".manifest.json"))
            .filter_map(|o| o.key.strip_prefix(&self.location.prefix).map(|name| name.split('/').next().unwrap_or(name)))
            .filter(|name| !listed.iter().any(|a| a.manifest.file == *name))
            .collect();
        leftovers.sort_unstable();
        leftovers.dedup();
        let mut swept = Vec::new();
        for name in leftovers {
            let key = self.location.key(name);
            let keys: Vec<String> = dump_objects(&objects, &key).map(|o| o.key.clone()).collect();
            let Some(first) = keys.first() else { continue };
            if self.tagged_as(first, token).await? {
                self.delete(keys).await?;
                swept.push(self.url_of(&key));
            }
        }
        self.abort_unfinished_uploads(token).await?;
        Ok(swept)
    }

    async fn abort_unfinished_uploads(&self, token: &str) -> Result<(), ProviderError> {
        let bucket = &self.location.bucket;
        let prefix = self.location.key(&prefix(token));
        let listed = self.client.list_multipart_uploads().bucket(bucket).prefix(&prefix).send().await;
        let listed = listed.map_err(|err| sdk_failed(format!("cannot list unfinished uploads under {}", self.url_of(&prefix)), err))?;
        for upload in listed.uploads() {
            let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else { continue };
            let abort = self.client.abort_multipart_upload().bucket(bucket).key(key).upload_id(id).send().await;
            abort.map_err(|err| sdk_failed(format!("cannot abort the unfinished upload of {}", self.url_of(key)), err))?;
        }
        Ok(())
    }

    /// Downloads a backup's dump into `into`; the path of the dump there.
    pub async fn fetch(&self, artefact: &Artefact, into: &Path) -> Result<PathBuf, ProviderError> {
        let key = self.location.key(&artefact.manifest.file);
        let objects = self.objects(&artefact.manifest.file).await?;
        let target = into.join(&artefact.manifest.file);
        if artefact.manifest.format == "directory" {
            std::fs::create_dir_all(&target).map_err(|err| io_error("cannot create", &target, &err))?;
        }
        for object in dump_objects(&objects, &key) {
            let path = match object.key.strip_prefix(&format!("{key}/")) {
                Some(name) => target.join(name),
                None => target.clone(),
            };
            self.download(&object.key, &path).await?;
        }
        Ok(target)
    }

    async fn download(&self, key: &str, path: &Path) -> Result<(), ProviderError> {
        let object = self.client.get_object().bucket(&self.location.bucket).key(key).send().await;
        let object = object.map_err(|err| sdk_failed(format!("cannot download {}", self.url_of(key)), err))?;
        let mut file = tokio::fs::File::create(path).await.map_err(|err| io_error("cannot create", path, &err))?;
        tokio::io::copy(&mut object.body.into_async_read(), &mut file).await.map_err(|err| io_error("cannot write", path, &err))?;
        Ok(())
    }
}

/// The objects of the dump at `key`: the object itself (custom format) or those under `key/`.
fn dump_objects<'a>(objects: &'a [Object], key: &'a str) -> impl Iterator<Item = &'a Object> + 'a {
    objects.iter().filter(move |o| o.key == key || o.key.strip_prefix(key).is_some_and(|rest| rest.starts_with('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3s_rules() {
        assert!(Location::check_bucket("ai-platform-backups").is_ok());
        assert!(Location::check_bucket("backups.example.com").is_ok());
        for bad in ["AI-Backups", "ab", "-backups", "backups-", "back..ups", "back_ups"] {
            assert!(Location::check_bucket(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn objects_are_tagged_with_the_policy_token() {
        assert_eq!(Bucket::tagging("3f2a9c1e0b7d"), "strata%3Apolicy=3f2a9c1e0b7d&strata%3Awritten-by=strata");
    }

    #[test]
    fn a_dumps_objects_are_its_own_key_or_those_under_it() {
        let objects = ["p/strata-t-1.dump", "p/strata-t-1.dump.old", "p/strata-t-2.dir/toc.dat", "p/strata-t-2.dir/3001.dat.gz", "p/strata-t-2.dirx"]
            .map(|key| Object { key: key.into(), bytes: 1 });
        let keys = |key| dump_objects(&objects, key).map(|o| o.key.as_str()).collect::<Vec<_>>();
        assert_eq!(keys("p/strata-t-1.dump"), ["p/strata-t-1.dump"]);
        assert_eq!(keys("p/strata-t-2.dir"), ["p/strata-t-2.dir/toc.dat", "p/strata-t-2.dir/3001.dat.gz"]);
    }
}
