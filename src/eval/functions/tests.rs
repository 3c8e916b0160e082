//! The function test table: cases taken from the examples on Terraform's function documentation
//! pages, plus edge cases and errors. Every function in the registry has at least one case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use strata_provider_sdk::Value;

use super::conversion::same_value;
use super::{LEFT_OUT, REGISTRY};
use crate::config::{AttrExpr, Config};
use crate::diag::{Diagnostic, Location};
use crate::eval::{Evaluated, Scope};

/// (expression, expected value written as an expression).
const CASES: &[(&str, &str)] = &[
    // Numeric
    ("abs(23)", "23"),
    ("abs(0)", "0"),
    ("abs(-12.4)", "12.4"),
    ("ceil(5)", "5"),
    ("ceil(5.1)", "6"),
    ("floor(5)", "5"),
    ("floor(4.9)", "4"),
    ("log(50, 10)", "1.6989700043360185"),
    ("log(16, 2)", "4"),
    ("log(1, 10)", "0"),
    ("max(12, 54, 3)", "54"),
    ("max([12, 54, 3]...)", "54"),
    ("min(12, 54, 3)", "3"),
    ("min([12, 54, 3]...)", "3"),
    (r#"parseint("100", 10)"#, "100"),
    (r#"parseint("FF", 16)"#, "255"),
    (r#"parseint("-10", 16)"#, "-16"),
    (r#"parseint("1011111011101111", 2)"#, "48879"),
    (r#"parseint("aA", 62)"#, "656"),
    ("pow(3, 2)", "9"),
    ("pow(4, 0)", "1"),
    ("signum(-13)", "-1"),
    ("signum(0)", "0"),
    ("signum(344)", "1"),
    // String
    (r#"chomp("hello\n")"#, r#""hello""#),
    (r#"chomp("hello\r\n")"#, r#""hello""#),
    (r#"chomp("hello\n\n")"#, r#""hello""#),
    (r#"endswith("hello world", "world")"#, "true"),
    (r#"endswith("hello world", "hello")"#, "false"),
    (r#"format("Hello, %s!", "Ander")"#, r#""Hello, Ander!""#),
    (r#"format("There are %d lights", 4)"#, r#""There are 4 lights""#),
    (r#"format("%#v", "hello")"#, r#""\"hello\"""#),
    (r#"format("%v", ["a", 1])"#, r#""[\"a\",1]""#),
    (r#"format("%s-%03d", "db", 7)"#, r#""db-007""#),
    (r#"format("%08.3f", 3.14159)"#, r#""0003.142""#),
    (r#"format("%5d|%-5d|", 42, 42)"#, r#""   42|42   |""#),
    (r#"format("%x %X %o %b", 255, 255, 8, 5)"#, r#""ff FF 10 101""#),
    (r#"format("%e", 1234.5678)"#, r#""1.234568e+03""#),
    (r#"format("%t %q", true, "hi")"#, r#""true \"hi\"""#),
    (r#"format("%[2]s %[1]s", "a", "b")"#, r#""b a""#),
    (r#"format("100%%")"#, r#""100%""#),
    (r#"formatlist("Hello, %s!", ["Valentina", "Ander", "Olivia", "Sam"])"#, r#"["Hello, Valentina!", "Hello, Ander!", "Hello, Olivia!", "Hello, Sam!"]"#),
    (r#"formatlist("%s, %s!", "Salutations", ["Valentina", "Ander"])"#, r#"["Salutations, Valentina!", "Salutations, Ander!"]"#),
    (r#"indent(2, "[\n  foo,\n  bar,\n]\n")"#, r#""[\n    foo,\n    bar,\n  ]\n  ""#),
    (r#"join(", ", ["foo", "bar", "baz"])"#, r#""foo, bar, baz""#),
    (r#"join(", ", ["foo"])"#, r#""foo""#),
    (r#"join("-", ["a"], ["b", "c"])"#, r#""a-b-c""#),
    (r#"lower("HELLO")"#, r#""hello""#),
    (r#"lower("АЛЛО!")"#, r#""алло!""#),
    (r#"regex("[a-z]+", "53453453.345345aaabbbccc23454")"#, r#""aaabbbccc""#),
    (r#"regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01")"#, r#"["2019", "02", "01"]"#),
    (
        r#"regex("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", "https://terraform.io/docs/")"#,
        r#"{ authority = "terraform.io", scheme = "https" }"#,
    ),
    (r#"regexall("[a-z]+", "1234abcd5678efgh9")"#, r#"["abcd", "efgh"]"#),
    (r#"length(regexall("[a-z]+", "1234abcd5678efgh9"))"#, "2"),
    (r#"length(regexall("[a-z]+", "123456789")) > 0"#, "false"),
    (r#"replace("1 + 2 + 3", "+", "-")"#, r#""1 - 2 - 3""#),
    (r#"replace("hello world", "/w.*d/", "everybody")"#, r#""hello everybody""#),
    (r#"replace("hello world", "/(h)(e)/", "$2$1")"#, r#""ehllo world""#),
    (r#"split(",", "foo")"#, r#"["foo"]"#),
    (r#"split(",", "foo,bar,baz")"#, r#"["foo", "bar", "baz"]"#),
    (r#"split(",", "")"#, r#"[""]"#),
    (r#"startswith("hello world", "hello")"#, "true"),
    (r#"startswith("hello world", "world")"#, "false"),
    (r#"strcontains("hello world", "wor")"#, "true"),
    (r#"strcontains("hello world", "wod")"#, "false"),
    (r#"strrev("hello")"#, r#""olleh""#),
    (r#"strrev("a ☃")"#, r#""☃ a""#),
    (r#"substr("hello world", 1, 4)"#, r#""ello""#),
    (r#"substr("🤔🤷", 0, 1)"#, r#""🤔""#),
    (r#"substr("hello world", -5, -1)"#, r#""world""#),
    (r#"substr("hello world", 6, 10)"#, r#""world""#),
    (r#"templatestring(local.greeting, { name = "Ander" })"#, r#""Hello, Ander!""#),
    (r#"title("hello world")"#, r#""Hello World""#),
    (r#"trim("?!hello?!", "!?")"#, r#""hello""#),
    (r#"trim("foobar", "far")"#, r#""oob""#),
    (r#"trim("   hello! world.!  ", "! ")"#, r#""hello! world.""#),
    (r#"trimprefix("helloworld", "hello")"#, r#""world""#),
    (r#"trimprefix("helloworld", "cat")"#, r#""helloworld""#),
    (r#"trimsuffix("helloworld", "world")"#, r#""hello""#),
    (r#"trimspace("  hello\n\n")"#, r#""hello""#),
    (r#"upper("hello")"#, r#""HELLO""#),
    (r#"upper("алло!")"#, r#""АЛЛО!""#),
    // Collection
    (r#"alltrue(["true", true])"#, "true"),
    ("alltrue([true, false])", "false"),
    ("alltrue([])", "true"),
    (r#"anytrue(["true"])"#, "true"),
    ("anytrue([true, false])", "true"),
    ("anytrue([])", "false"),
    (r#"chunklist(["a", "b", "c", "d", "e"], 2)"#, r#"[["a", "b"], ["c", "d"], ["e"]]"#),
    (r#"chunklist(["a", "b", "c", "d", "e"], 1)"#, r#"[["a"], ["b"], ["c"], ["d"], ["e"]]"#),
    (r#"coalesce("a", "b")"#, r#""a""#),
    (r#"coalesce("", "b")"#, r#""b""#),
    ("coalesce(1, 2)", "1"),
    (r#"coalesce(["", "b"]...)"#, r#""b""#),
    (r#"coalesce(null, 1, "x")"#, r#""1""#),
    (r#"coalescelist(["a", "b"], ["c", "d"])"#, r#"["a", "b"]"#),
    (r#"coalescelist([], ["c", "d"])"#, r#"["c", "d"]"#),
    (r#"compact(["a", "", "b", null, "c"])"#, r#"["a", "b", "c"]"#),
    (r#"concat(["a", ""], ["b", "c"])"#, r#"["a", "", "b", "c"]"#),
    (r#"contains(["a", "b", "c"], "a")"#, "true"),
    (r#"contains(["a", "b", "c"], "d")"#, "false"),
    (r#"distinct(["a", "b", "a", "c", "d", "b"])"#, r#"["a", "b", "c", "d"]"#),
    (r#"element(["a", "b", "c"], 1)"#, r#""b""#),
    (r#"element(["a", "b", "c"], 3)"#, r#""a""#),
    (r#"element(["a", "b", "c"], length(["a", "b", "c"]) - 1)"#, r#""c""#),
    (r#"flatten([["a", "b"], [], ["c"]])"#, r#"["a", "b", "c"]"#),
    (r#"flatten([[["a", "b"], []], ["c"]])"#, r#"["a", "b", "c"]"#),
    (r#"index(["a", "b", "c"], "b")"#, "1"),
    ("keys({ a = 1, c = 2, d = 3 })", r#"["a", "c", "d"]"#),
    ("length([])", "0"),
    (r#"length(["a", "b"])"#, "2"),
    (r#"length({ "a" = "b" })"#, "1"),
    (r#"length("hello")"#, "5"),
    (r#"length("👾🕹️")"#, "2"),
    (r#"lookup({ a = "ay", b = "bee" }, "a", "what?")"#, r#""ay""#),
    (r#"lookup({ a = "ay", b = "bee" }, "c", "what?")"#, r#""what?""#),
    (
        r#"matchkeys(["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"])"#,
        r#"["i-abc", "i-def"]"#,
    ),
    (r#"merge({ a = "b", c = "d" }, { e = "f", c = "z" })"#, r#"{ a = "b", c = "z", e = "f" }"#),
    (r#"merge({ a = "b" }, null)"#, r#"{ a = "b" }"#),
    ("one([])", "null"),
    (r#"one(["hello"])"#, r#""hello""#),
    ("range(3)", "[0, 1, 2]"),
    ("range(1, 4)", "[1, 2, 3]"),
    ("range(1, 8, 2)", "[1, 3, 5, 7]"),
    ("range(1, 4, 0.5)", "[1, 1.5, 2, 2.5, 3, 3.5]"),
    ("range(4, 1)", "[4, 3, 2]"),
    ("range(10, 5, -2)", "[10, 8, 6]"),
    ("reverse([1, 2, 3])", "[3, 2, 1]"),
    (r#"setintersection(["a", "b"], ["b", "c"], ["b", "d"])"#, r#"["b"]"#),
    (
        r#"setproduct(["development", "staging"], ["app1", "app2"])"#,
        r#"[["development", "app1"], ["development", "app2"], ["staging", "app1"], ["staging", "app2"]]"#,
    ),
    (r#"setsubtract(["a", "b", "c"], ["a", "c"])"#, r#"["b"]"#),
    (r#"setunion(["a", "b"], ["b", "c"], ["d"])"#, r#"["a", "b", "c", "d"]"#),
    (r#"setunion(["z"], ["a"])"#, r#"["a", "z"]"#),
    (r#"slice(["a", "b", "c", "d"], 1, 3)"#, r#"["b", "c"]"#),
    (r#"slice(["a", "b"], 2, 2)"#, "[]"),
    (r#"sort(["e", "d", "a", "x"])"#, r#"["a", "d", "e", "x"]"#),
    (r#"sort(["b", "B", "a", "10", "9"])"#, r#"["10", "9", "B", "a", "b"]"#),
    ("sort([3, 1, 10])", r#"["1", "10", "3"]"#),
    ("sum([10, 13, 6, 4.5])", "33.5"),
    (r#"transpose({ "a" = ["1", "2"], "b" = ["2", "3"] })"#, r#"{ "1" = ["a"], "2" = ["a", "b"], "3" = ["b"] }"#),
    ("values({ a = 3, c = 2, d = 1 })", "[3, 2, 1]"),
    (r#"zipmap(["a", "b"], [1, 2])"#, "{ a = 1, b = 2 }"),
    // Encoding
    (r#"base64decode("SGVsbG8gV29ybGQ=")"#, r#""Hello World""#),
    (r#"base64encode("Hello World")"#, r#""SGVsbG8gV29ybGQ=""#),
    (r#"substr(base64gzip("test"), 0, 4)"#, r#""H4sI""#),
    (r#"csvdecode("a,b,c\n1,2,3\n4,5,6")"#, r#"[{ a = "1", b = "2", c = "3" }, { a = "4", b = "5", c = "6" }]"#),
    (r#"jsondecode("{\"hello\": \"world\"}")"#, r#"{ hello = "world" }"#),
    (r#"jsondecode("true")"#, "true"),
    (r#"jsonencode({ "hello" = "world" })"#, r#""{\"hello\":\"world\"}""#),
    (r#"jsonencode("<b> & </b>")"#, r#""\"\\u003cb\\u003e \\u0026 \\u003c/b\\u003e\"""#),
    (r#"textencodebase64("Hello World", "UTF-16LE")"#, r#""SABlAGwAbABvACAAVwBvAHIAbABkAA==""#),
    (r#"textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE")"#, r#""Hello World""#),
    (r#"textdecodebase64(textencodebase64("Grüße", "ISO-8859-2"), "ISO-8859-2")"#, r#""Grüße""#),
    (r#"urlencode("Hello World!")"#, r#""Hello+World%21""#),
    (r#"urlencode("☃")"#, r#""%E2%98%83""#),
    (r#"urlencode("foo:bar@localhost?foo=bar&bar=baz")"#, r#""foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz""#),
    (r#"yamldecode("hello: world")"#, r#"{ hello = "world" }"#),
    (r#"yamldecode("true")"#, "true"),
    (r#"yamldecode("- 1\n- 2.5\n- three\n- null")"#, r#"[1, 2.5, "three", null]"#),
    (r#"yamlencode({ "a" = "b", "c" = "d" })"#, r#""\"a\": \"b\"\n\"c\": \"d\"\n""#),
    (r#"yamlencode({ "foo" = [1, 2, 3], "bar" = "baz" })"#, r#""\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n""#),
    (
        r#"yamlencode({ "foo" = [1, { "a" = "b", "c" = "d" }, 3], "bar" = "baz" })"#,
        r#""\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n""#,
    ),
    // Filesystem
    (r#"abspath("/a/b/../c/./d")"#, r#""/a/c/d""#),
    (r#"startswith(abspath("x"), "/")"#, "true"),
    (r#"basename("foo/bar/baz.txt")"#, r#""baz.txt""#),
    (r#"basename("foo/bar/")"#, r#""bar""#),
    (r#"dirname("foo/bar/baz.txt")"#, r#""foo/bar""#),
    (r#"dirname("foo")"#, r#"".""#),
    (r#"file("hello.txt")"#, r#""Hello World""#),
    (r#"file("${path.module}/hello.txt")"#, r#""Hello World""#),
    (r#"filebase64("hello.txt")"#, r#""SGVsbG8gV29ybGQ=""#),
    (r#"fileexists("hello.txt")"#, "true"),
    (r#"fileexists("missing.txt")"#, "false"),
    (r#"fileset(path.module, "files/*.txt")"#, r#"["files/hello.txt", "files/world.txt"]"#),
    (r#"fileset(path.module, "files/{hello,nested/deep}.txt")"#, r#"["files/hello.txt", "files/nested/deep.txt"]"#),
    (r#"fileset(path.module, "**/*.txt")"#, r#"["files/hello.txt", "files/nested/deep.txt", "files/world.txt", "hello.txt"]"#),
    (r#"fileset("files", "*")"#, r#"["hello.txt", "other.md", "world.txt"]"#),
    (r#"pathexpand("/etc/hosts")"#, r#""/etc/hosts""#),
    (r#"templatefile("backends.tftpl", { port = 8080, ip_addrs = ["10.0.0.1", "10.0.0.2"] })"#, r#""backend 10.0.0.1:8080\nbackend 10.0.0.2:8080\n""#),
    (r#"templatefile("config.tftpl", { config = { "x" = "y", "foo" = "bar" } })"#, r#""foo = bar\nx = y\n""#),
    (r#"templatestring("%%{ if x ~} yes %%{~ else ~} no %%{~ endif ~} !", { x = true })"#, r#""yes!""#),
    (r#"templatestring("a $${~ \"b\" ~} c", {})"#, r#""abc""#),
    // Date and time
    (r#"formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")"#, r#""02 Jan 2018 23:12 UTC""#),
    (r#"formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z")"#, r#""Tuesday, 02-Jan-18 23:12:01 UTC""#),
    (r#"formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")"#, r#""Tue, 02 Jan 2018 23:12:01 -0800""#),
    (r#"formatdate("MMM DD, YYYY", "2018-01-02T23:12:01Z")"#, r#""Jan 02, 2018""#),
    (r#"formatdate("HH:mmaa", "2018-01-02T23:12:01Z")"#, r#""11:12pm""#),
    (r#"formatdate("'Date:' D/M/YY h:m:s Z ZZZZZ", "2018-01-02T03:04:05+05:30")"#, r#""Date: 2/1/18 3:4:5 +05:30 +05:30""#),
    (r#"formatdate("YYYY-MM-DD'T'hh:mm:ssZ", "2018-01-02T03:04:05Z")"#, r#""2018-01-02T03:04:05Z""#),
    (r#"formatdate("MMMM 'o''clock'", "2018-12-02T03:04:05Z")"#, r#""December o'clock""#),
    (r#"timeadd("2017-11-22T00:00:00Z", "10m")"#, r#""2017-11-22T00:10:00Z""#),
    (r#"timeadd("2017-11-22T00:00:00Z", "-1h30m")"#, r#""2017-11-21T22:30:00Z""#),
    (r#"timeadd("2017-11-22T00:00:00+01:00", "1.5h")"#, r#""2017-11-22T01:30:00+01:00""#),
    (r#"timecmp("2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z")"#, "0"),
    (r#"timecmp("2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z")"#, "-1"),
    (r#"timecmp("2017-11-22T01:00:00Z", "2017-11-22T00:00:00Z")"#, "1"),
    (r#"timecmp("2017-11-22T01:00:00Z", "2017-11-22T00:00:00-01:00")"#, "0"),
    (r#"can(formatdate("YYYY", timestamp()))"#, "true"),
    (r#"length(plantimestamp()) == 20"#, "true"),
    // Hash and crypto
    (r#"base64sha256("hello world")"#, r#""uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=""#),
    (r#"base64sha512("hello world")"#, r#""MJ7MSJwS1utMxA9QyQLytNDtd+5RGnx6m808qG1M2G+YndNbxf9JlnDaNCVbRbDP2DDoH2Bdz33FVC6TrpzXbw==""#),
    (r#"can(regex("^\\$2a\\$04\\$.{53}$", bcrypt("hello", 4)))"#, "true"),
    (r#"filebase64sha256("hello.txt")"#, r#""pZGm1Av0IEBKARczz7exkNYsZb8LzaMrV7J32a2fFG4=""#),
    (r#"filebase64sha512("hello.txt")"#, r#""LHT9F+2v2A6ER7DUZ0HuJDt+t03SFJoKsbkkb7MDgvJ+hT2FhXGeDmfL2g2qj1FnEGRhXWRa4nrLFb+xRH9Fmw==""#),
    (r#"filemd5("hello.txt")"#, r#""b10a8db164e0754105b7a99be72e3fe5""#),
    (r#"filesha1("hello.txt")"#, r#""0a4d55a8d778e5022fab701977c5d840bbc486d0""#),
    (r#"filesha256("hello.txt")"#, r#""a591a6d40bf420404a011733cfb7b190d62c65bf0bcda32b57b277d9ad9f146e""#),
    (
        r#"filesha512("hello.txt")"#,
        r#""2c74fd17edafd80e8447b0d46741ee243b7eb74dd2149a0ab1b9246fb30382f27e853d8585719e0e67cbda0daa8f51671064615d645ae27acb15bfb1447f459b""#,
    ),
    (r#"md5("hello world")"#, r#""5eb63bbbe01eeed093cb22bb8f5acdc3""#),
    (r#"sha1("hello world")"#, r#""2aae6c35c94fcfb415dbe95f408b9ce91ee846ed""#),
    (r#"sha256("hello world")"#, r#""b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9""#),
    (
        r#"sha512("hello world")"#,
        r#""309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f""#,
    ),
    (r#"length(uuid())"#, "36"),
    (r#"uuidv5("dns", "www.terraform.io")"#, r#""a5008fae-b28c-5ba5-96cd-82b4c53552d6""#),
    (r#"uuidv5("url", "https://www.terraform.io/")"#, r#""9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5""#),
    (r#"uuidv5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.terraform.io")"#, r#""a5008fae-b28c-5ba5-96cd-82b4c53552d6""#),
    // IP network
    (r#"cidrhost("10.12.112.0/20", 16)"#, r#""10.12.112.16""#),
    (r#"cidrhost("10.12.112.0/20", 268)"#, r#""10.12.113.12""#),
    (r#"cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)"#, r#""fd00:fd12:3456:7890::22""#),
    (r#"cidrhost("10.0.0.0/24", -1)"#, r#""10.0.0.255""#),
    (r#"cidrnetmask("172.16.0.0/12")"#, r#""255.240.0.0""#),
    (r#"cidrnetmask("10.0.0.0/32")"#, r#""255.255.255.255""#),
    (r#"cidrsubnet("172.16.0.0/12", 4, 2)"#, r#""172.18.0.0/16""#),
    (r#"cidrsubnet("10.1.2.0/24", 4, 15)"#, r#""10.1.2.240/28""#),
    (r#"cidrsubnet("10.0.0.0/16", 8, 2)"#, r#""10.0.2.0/24""#),
    (r#"cidrsubnet("10.0.5.7/16", 8, 2)"#, r#""10.0.2.0/24""#),
    (r#"cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)"#, r#""fd00:fd12:3456:7800:a200::/72""#),
    (r#"cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)"#, r#"["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]"#),
    (
        r#"cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)"#,
        r#"["fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/72", "fd00:fd12:3456:7800:200::/72", "fd00:fd12:3456:7800:300::/88"]"#,
    ),
    (r#"[for cidr in cidrsubnets("10.0.0.0/8", 8, 8) : cidrsubnets(cidr, 4, 4)]"#, r#"[["10.0.0.0/20", "10.0.16.0/20"], ["10.1.0.0/20", "10.1.16.0/20"]]"#),
    // Type conversion
    ("can(local.obj.a)", "true"),
    ("can(local.obj.missing)", "false"),
    (r#"can(regex("^ami-", "ami-123"))"#, "true"),
    (r#"can(regex("^ami-", "foo"))"#, "false"),
    (r#"can(regex("[", "foo"))"#, "false"),
    ("can(var.later)", "null"),
    (r#"try(local.obj.missing, "fallback")"#, r#""fallback""#),
    (r#"try(local.obj.a, "fallback")"#, "1"),
    (r#"try(local.names[5], local.names[0])"#, r#""a""#),
    (r#"try(tonumber("x"), tonumber("2"))"#, "2"),
    (r#"try(var.later, "x")"#, "null"),
    (r#"ephemeralasnull("x")"#, r#""x""#),
    (r#"issensitive(var.password)"#, "true"),
    (r#"issensitive("hello")"#, "false"),
    (r#"issensitive(sensitive("secret"))"#, "true"),
    ("nonsensitive(var.password)", r#""s3cret""#),
    (r#"sensitive("x")"#, r#""x""#),
    (r#"tobool("true")"#, "true"),
    ("tobool(false)", "false"),
    ("tobool(null)", "null"),
    (r#"tolist(["a", "b", 3])"#, r#"["a", "b", "3"]"#),
    (r#"tomap({ "a" = "foo", "b" = true })"#, r#"{ a = "foo", b = "true" }"#),
    (r#"tonumber("1")"#, "1"),
    ("tonumber(2.5)", "2.5"),
    ("tonumber(null)", "null"),
    (r#"toset(["a", "b", "c", "b"])"#, r#"["a", "b", "c"]"#),
    (r#"toset(["c", "b", "b"])"#, r#"["b", "c"]"#),
    (r#"toset(["a", "b", 3])"#, r#"["3", "a", "b"]"#),
    (r#"toset(["b", "B", "a", "_"])"#, r#"["B", "_", "a", "b"]"#),
    ("toset([10, 2, 1, 2])", "[1, 2, 10]"),
    ("toset([true, false, true])", "[false, true]"),
    (r#"tostring("hello")"#, r#""hello""#),
    ("tostring(1)", r#""1""#),
    ("tostring(true)", r#""true""#),
    ("tostring(null)", "null"),
];

/// (expression, text the error's summary, detail or hint contains).
const ERRORS: &[(&str, &str)] = &[
    ("nosuch(1)", "There is no function named \"nosuch\""),
    (r#"upperr("a")"#, "did you mean \"upper\"?"),
    (r#"rsadecrypt("a", "b")"#, "does not decrypt RSA"),
    ("abs()", "Function \"abs\" expects 1 argument(s). Missing value for \"num\"."),
    ("abs(1, 2)", "Function \"abs\" expects only 1 argument(s)."),
    ("abs(\"x\")", "Invalid value for \"num\" parameter"),
    ("abs(null)", "argument must not be null"),
    ("max()", "must pass at least one number"),
    ("pow(10, 400)", "not a finite number"),
    (r#"parseint("12", 2)"#, "cannot parse \"12\" as a base 2 integer"),
    (r#"parseint("1", 99)"#, "base must be a whole number between 2 and 62"),
    (r#"parseint("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 36)"#, "too large"),
    (r#"format("%s")"#, "not enough arguments for \"%s\" at 0: need index 1 but have 0 total"),
    (r#"format("x", 1)"#, "too many arguments; only 0 used by format string"),
    (r#"format("%d", "x")"#, "unsupported value for \"%d\""),
    (r#"format("%9999d", 1)"#, "larger than 4096"),
    (r#"formatlist("%s %s", ["a"], ["b", "c"])"#, "argument 2 has length 2, which is inconsistent with argument 1 of length 1"),
    ("indent(100000, \"x\")", "number of spaces"),
    (r#"regex("[", "x")"#, "invalid regexp pattern"),
    (r#"regex("[a-z]+", "123")"#, "pattern did not match any part of the given string"),
    (r#"regex("(?P<a>x)(y)", "xy")"#, "cannot mix both named and unnamed capture groups"),
    (r#"replace("x", "/[/", "y")"#, "invalid regexp pattern"),
    (r#"chunklist(["a"], -1)"#, "the size argument must be positive"),
    (r#"coalesce(null, "")"#, "no non-null, non-empty-string arguments"),
    ("coalescelist([], [])", "no non-null arguments"),
    ("element([], 0)", "cannot use element function with an empty list"),
    (r#"index(["a"], "b")"#, "item not found"),
    (r#"lookup({ a = 1 }, "b")"#, "lookup failed to find key \"b\""),
    (r#"matchkeys(["a"], [], [])"#, "length of keys and values should be equal"),
    (r#"merge({}, "x")"#, "arguments must be maps or objects"),
    (r#"one(["hello", "goodbye"])"#, "with either zero or one elements"),
    ("range(0, 2000)", "more than 1024 values were generated"),
    ("range(1, 2, 0)", "step must not be zero"),
    (r#"slice(["a", "b"], 1, 3)"#, "Invalid value for \"end_index\" parameter: must be less than or equal to the length of the input collection."),
    (r#"slice(["a", "b"], 2, 1)"#, "Invalid value for \"start_index\" parameter: must be less than or equal to end_index."),
    (r#"slice(["a", "b"], -1, 1)"#, "must be greater than or equal to 0"),
    (r#"sort(["a", null])"#, "a null string cannot be sorted"),
    ("sum([])", "cannot sum an empty list"),
    (r#"zipmap(["a"], [1, 2])"#, "number of keys (1) does not match number of values (2)"),
    (r#"base64decode("!!")"#, "failed to decode base64 data"),
    (r#"base64decode("/w==")"#, "not valid UTF-8"),
    (r#"csvdecode("a,b\n1")"#, "Call to function \"csvdecode\" failed"),
    (r#"jsondecode("{")"#, "Call to function \"jsondecode\" failed"),
    (r#"textencodebase64("x", "NOPE-1")"#, "is not a supported IANA encoding name or alias"),
    (r#"yamldecode("a: [")"#, "Call to function \"yamldecode\" failed"),
    (r#"file("missing.txt")"#, "no file exists at \"missing.txt\""),
    (r#"file("binary.bin")"#, "are not valid UTF-8"),
    (r#"fileexists("files")"#, "is a directory, not a file"),
    (r#"fileset(path.module, "[")"#, "failed to glob pattern"),
    (r#"templatefile("missing.tftpl", {})"#, "failed to read file"),
    (r#"templatefile("uses_var.tftpl", {})"#, "reference to undeclared input variable \"env\""),
    (r#"templatefile("unbound.tftpl", {})"#, "\"name\" cannot be used on its own here"),
    (r#"templatefile("recursive.tftpl", {})"#, "cannot recursively call templatefile"),
    (r#"templatefile("backends.tftpl", { "bad key" = 1 })"#, "invalid template variable name"),
    (r#"formatdate("Y", "2018-01-02T23:12:01Z")"#, "invalid date format verb \"Y\": year must either be \"YY\" or \"YYYY\""),
    (r#"formatdate("Q", "2018-01-02T23:12:01Z")"#, "invalid date format verb \"Q\""),
    (r#"formatdate("'unterminated", "2018-01-02T23:12:01Z")"#, "unterminated literal"),
    (r#"formatdate("YYYY", "2018-01-02")"#, "not a valid RFC3339 timestamp"),
    (r#"timeadd("2017-11-22T00:00:00Z", "10x")"#, "time: invalid duration \"10x\""),
    (r#"bcrypt("x", 99)"#, "cost must be between 4 and 31"),
    (r#"uuidv5("nope", "x")"#, "uuidv5() doesn't support namespace nope"),
    (r#"cidrsubnet("10.0.0.0/16", 8, 300)"#, "prefix extension of 8 does not accommodate a subnet numbered 300"),
    (r#"cidrsubnet("10.0.0.0/16", 20, 0)"#, "insufficient address space to extend prefix of 16 by 20"),
    (r#"cidrsubnet("10.0.0.0/33", 8, 1)"#, "invalid CIDR address: 10.0.0.0/33"),
    (r#"cidrsubnet("not-an-ip", 8, 1)"#, "Invalid value for \"prefix\" parameter: invalid CIDR address"),
    (r#"cidrhost("10.0.0.0/24", 256)"#, "prefix of 24 does not accommodate a host numbered 256"),
    (r#"cidrhost("10.0.0.0/24", -257)"#, "does not accommodate a host numbered -257"),
    (r#"cidrnetmask("fd00::/8")"#, "IPv6 addresses cannot have a netmask"),
    (r#"cidrsubnets("10.0.0.0/24", 1, 1, 1)"#, "not enough remaining address space for a subnet with a prefix of 25 bits after 10.0.0.128/25"),
    (r#"cidrsubnets("10.0.0.0/24", 0)"#, "must extend prefix by at least one bit"),
    (r#"cidrsubnets("10.0.0.0/24", 9)"#, "would extend prefix to 33 bits, which is too long for an IPv4 address"),
    ("try(local.obj.missing)", "no expression succeeded"),
    ("try(var.undeclared, 1)", "reference to undeclared input variable"),
    ("can(local.undeclared)", "reference to undeclared local value"),
    (r#"tonumber("hello")"#, "cannot convert \"hello\" to number; given string must be a decimal representation of a number"),
    (r#"tobool("yes")"#, "cannot convert \"yes\" to bool; only the strings \"true\" or \"false\" are allowed"),
    (r#"tostring(["a"])"#, "cannot convert tuple to string"),
    (r#"tolist([1, true])"#, "cannot convert tuple to list of any single type"),
    (r#"tomap({ a = [], b = "x" })"#, "cannot convert object to map of any single type"),
    ("toset(1)", "cannot convert number to set of any single type"),
];

const MAIN_TF: &str = r#"
variable "password" {
  sensitive = true
}
variable "later" {}
variable "env" {
  default = "dev"
}
locals {
  obj      = { a = 1 }
  names    = ["a", "b"]
  greeting = "Hello, $${name}!"
}
"#;

const FILES: &[(&str, &str)] = &[
    ("hello.txt", "Hello World"),
    ("files/hello.txt", "hi"),
    ("files/world.txt", "world"),
    ("files/nested/deep.txt", "deep"),
    ("files/other.md", "not text"),
    ("backends.tftpl", "%{ for addr in ip_addrs ~}\nbackend ${addr}:${port}\n%{ endfor ~}\n"),
    ("config.tftpl", "%{ for key, value in config ~}\n${key} = ${value}\n%{ endfor ~}\n"),
    ("uses_var.tftpl", "${var.env}"),
    ("unbound.tftpl", "${name}"),
    ("recursive.tftpl", "${templatefile(\"recursive.tftpl\", {})}"),
];

/// A configuration directory with the files the cases read, kept for the whole test run.
fn config() -> &'static Config {
    static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("strata-functions-{}", uuid::Uuid::new_v4()));
        for (name, content) in FILES {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        std::fs::write(dir.join("binary.bin"), [0xff, 0xfe, 0x00]).unwrap();
        std::fs::write(dir.join("main.tf"), MAIN_TF).unwrap();
        crate::config::load_dir(&dir).unwrap()
    })
}

fn evaluate(expr: &str) -> Result<Evaluated, Diagnostic> {
    let config = config();
    let variables = BTreeMap::from([("password".to_owned(), Value::from("s3cret")), ("env".to_owned(), Value::from("dev"))]);
    let nothing_known = BTreeMap::new();
    let scope = Scope::root(config, &variables, &nothing_known);
    let parsed = expr.parse().unwrap_or_else(|err| panic!("{expr} does not parse: {err}"));
    let attr = AttrExpr { expr: parsed, location: Location { file: Arc::from(Path::new("t.tf")), line: 1, column: 1 } };
    scope.eval_attr(&attr).map_err(|mut errors| errors.0.remove(0))
}

fn message(diagnostic: &Diagnostic) -> String {
    format!("{} | {} | {}", diagnostic.summary, diagnostic.detail.as_deref().unwrap_or(""), diagnostic.hint.as_deref().unwrap_or(""))
}

#[test]
fn every_case_gives_terraforms_result() {
    let mut failures = Vec::new();
    for (expr, expected) in CASES {
        let want = evaluate(expected).unwrap_or_else(|err| panic!("expected value {expected} fails: {}", message(&err))).value;
        let want = if *expected == "null" && expr.contains("var.later") { Value::Unknown } else { want };
        match evaluate(expr) {
            Ok(got) if same_value(&got.value, &want) => {}
            Ok(got) => failures.push(format!("{expr}\n   got  {:?}\n   want {want:?}", got.value)),
            Err(err) => failures.push(format!("{expr}\n   failed: {}", message(&err))),
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn every_error_case_fails_with_terraforms_message() {
    let mut failures = Vec::new();
    for (expr, wanted) in ERRORS {
        match evaluate(expr) {
            Ok(got) => failures.push(format!("{expr}: succeeded with {:?}", got.value)),
            Err(err) if message(&err).contains(wanted) => {}
            Err(err) => failures.push(format!("{expr}\n   got  {}\n   want {wanted}", message(&err))),
        }
    }
    assert!(failures.is_empty(), "{} of {} error cases failed:\n{}", failures.len(), ERRORS.len(), failures.join("\n"));
}

#[test]
fn every_function_has_a_case() {
    let all: Vec<&str> = CASES.iter().chain(ERRORS).map(|(expr, _)| *expr).collect();
    let missing: Vec<&str> = REGISTRY.iter().map(|f| f.name).filter(|name| !all.iter().any(|expr| expr.contains(&format!("{name}(")))).collect();
    assert!(missing.is_empty(), "functions without a test case: {missing:?}");
}

#[test]
fn names_are_unique_and_parameters_named() {
    let mut seen = BTreeSet::new();
    for function in REGISTRY.iter() {
        assert!(seen.insert(function.name), "{} is registered twice", function.name);
    }
    assert!(REGISTRY.len() >= 110, "only {} functions", REGISTRY.len());
}

#[test]
fn sensitivity_follows_sensitive_and_nonsensitive() {
    assert!(evaluate(r#"sensitive("x")"#).unwrap().sensitive);
    assert!(evaluate(r#"upper(sensitive("x"))"#).unwrap().sensitive);
    assert!(evaluate("var.password").unwrap().sensitive);
    assert!(!evaluate("nonsensitive(var.password)").unwrap().sensitive);
    assert!(!evaluate("nonsensitive(sha256(var.password))").unwrap().sensitive);
    assert!(!evaluate("issensitive(var.password)").unwrap().sensitive);
    assert!(evaluate(r#"try(var.password, "x")"#).unwrap().sensitive);
    assert!(!evaluate(r#"try(local.obj.missing, "x")"#).unwrap().sensitive);
    assert!(evaluate(r#"templatefile("backends.tftpl", { port = var.password, ip_addrs = ["a"] })"#).unwrap().sensitive);
}

#[test]
fn unknown_arguments_make_unknown_results() {
    assert_eq!(evaluate("upper(var.later)").unwrap().value, Value::Unknown);
    assert_eq!(evaluate(r#"coalesce("a", var.later)"#).unwrap().value, Value::from("a"));
    assert_eq!(evaluate(r#"coalesce("", var.later, "b")"#).unwrap().value, Value::Unknown);
    assert_eq!(evaluate(r#"length(["a", var.later])"#).unwrap().value, Value::int(2));
    assert_eq!(evaluate("cidrsubnet(var.later, 8, 1)").unwrap().value, Value::Unknown);
    assert_eq!(evaluate(r#"templatefile("backends.tftpl", { port = var.later, ip_addrs = [] })"#).unwrap().value, Value::Unknown);
}

#[test]
fn calling_by_value_refuses_expression_functions() {
    let call = |name: &str| super::call_checked(super::lookup(name).unwrap(), &[Value::from("x")], Path::new("."));
    assert!(message(&call("try").unwrap_err()).contains("needs its argument expressions"));
    assert_eq!(call("upper").unwrap(), Value::from("X"));
}

/// The README's block of built-in functions, from its `#### Built-in functions` heading to the next heading.
fn readme_block() -> &'static str {
    let readme = include_str!("../../../README.md");
    let start = readme.find("#### Built-in functions").expect("README.md has a #### Built-in functions block");
    let rest = &readme[start + 1..];
    let end = rest.find("\n#").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[test]
fn the_readme_lists_exactly_the_registry() {
    let block = readme_block();
    let mentioned: BTreeSet<&str> = block
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        .collect();
    let known: BTreeSet<&str> = REGISTRY.iter().map(|f| f.name).chain(LEFT_OUT.iter().map(|(name, _)| *name)).collect();
    let unlisted: Vec<&&str> = known.difference(&mentioned).collect();
    let unknown: Vec<&&str> = mentioned.difference(&known).collect();
    assert!(unlisted.is_empty(), "functions missing from the README: {unlisted:?}");
    assert!(unknown.is_empty(), "the README lists names that are not functions: {unknown:?}");
    for function in REGISTRY.iter() {
        let label = format!("- {}:", function.category.label());
        let line = block.lines().find(|line| line.starts_with(&label)).unwrap_or_else(|| panic!("the README has no line {label}"));
        assert!(line.contains(&format!("`{}`", function.name)), "{} is not on the README's {label} line", function.name);
    }
}
