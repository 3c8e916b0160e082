//! Reading states written by earlier strata versions: each format version's file becomes the
//! current one in memory, and is written in the current format by the next write.

/// Format 1 kept one flat entry per resource; format 2 groups instances under their resource
/// (Terraform's `instances`). A format 1 resource is a resource with one instance and no key.
pub fn from_version_1(text: &str) -> Result<String, String> {
    let mut state: serde_json::Value = serde_json::from_str(text).map_err(|err| err.to_string())?;
    let resources = state.get_mut("resources").and_then(serde_json::Value::as_array_mut).ok_or("it has no resources list")?;
    for resource in resources.iter_mut() {
        let entry = resource.as_object_mut().ok_or("a resource is not an object")?;
        let mut instance = serde_json::Map::new();
        for field in ["attributes", "sensitive_attributes", "dependencies", "prevent_destroy", "desired_digest"] {
            if let Some(value) = entry.remove(field) {
                instance.insert(field.to_owned(), value);
            }
        }
        entry.insert("instances".to_owned(), serde_json::Value::Array(vec![serde_json::Value::Object(instance)]));
    }
    state["format_version"] = serde_json::Value::from(super::FORMAT_VERSION);
    serde_json::to_string(&state).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_1_resource_becomes_a_resource_with_one_unkeyed_instance() {
        let old = r#"{"format_version": 1, "resources": [{"address": "postgres_table.t", "mode": "managed", "type": "postgres_table", "name": "t",
            "provider": "postgres", "attributes": {"name": "t"}, "dependencies": ["postgres_schema.s"], "prevent_destroy": true}]}"#;
        let new: serde_json::Value = serde_json::from_str(&from_version_1(old).unwrap()).unwrap();
        assert_eq!(new["format_version"], 2);
        assert_eq!(new["resources"][0]["instances"], serde_json::json!([{"attributes": {"name": "t"}, "dependencies": ["postgres_schema.s"], "prevent_destroy": true}]));
        assert!(new["resources"][0].get("attributes").is_none());
        assert!(from_version_1(r#"{"format_version": 1}"#).is_err());
    }
}
