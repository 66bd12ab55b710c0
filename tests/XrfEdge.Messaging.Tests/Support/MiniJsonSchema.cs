using System.Text.Json;
using System.Text.RegularExpressions;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// Validates JSON against the subset of JSON Schema 2020-12 our docs/schemas files use (type, const, enum, required,
/// properties, additionalProperties, items, uniqueItems, minimum, maximum, minLength, maxLength, pattern, and format
/// date-time as RFC 3339 requires it: a full date and time with a UTC offset, "Z" or ±hh:mm). No validator package is
/// obtainable here; this keeps payloads and the committed schema files honest with each other.
/// </summary>
public static class MiniJsonSchema
{
    public static string SchemaPath(string file)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "XrfEdge.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory?.FullName ?? throw new DirectoryNotFoundException("repo root (XrfEdge.sln) not found"), "docs", "schemas", file);
    }

    /// <summary>Returns the list of violations (empty = valid).</summary>
    public static List<string> Validate(string schemaFile, ReadOnlySpan<byte> json)
    {
        using var schema = JsonDocument.Parse(File.ReadAllBytes(SchemaPath(schemaFile)));
        using var document = JsonDocument.Parse(json.ToArray());
        var errors = new List<string>();
        Check(schema.RootElement, document.RootElement, "$", errors);
        return errors;
    }

    private static void Check(JsonElement schema, JsonElement value, string path, List<string> errors)
    {
        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(constant, value))
        {
            errors.Add($"{path}: expected const {constant}");
        }

        if (schema.TryGetProperty("enum", out var options) && !options.EnumerateArray().Any(o => JsonElement.DeepEquals(o, value)))
        {
            errors.Add($"{path}: {value} not in enum");
        }

        if (schema.TryGetProperty("type", out var type))
        {
            var allowed = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!];
            if (!allowed.Any(t => Is(t, value)))
            {
                errors.Add($"{path}: {value.ValueKind} is not {string.Join("|", allowed)}");
                return;
            }
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                if (schema.TryGetProperty("required", out var required))
                {
                    foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
                    {
                        if (!value.TryGetProperty(name, out _))
                        {
                            errors.Add($"{path}: missing required '{name}'");
                        }
                    }
                }

                var properties = schema.TryGetProperty("properties", out var p) ? p : default;
                foreach (var member in value.EnumerateObject())
                {
                    if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(member.Name, out var sub))
                    {
                        Check(sub, member.Value, $"{path}.{member.Name}", errors);
                    }
                    else if (schema.TryGetProperty("additionalProperties", out var additional))
                    {
                        if (additional.ValueKind == JsonValueKind.False)
                        {
                            errors.Add($"{path}: unexpected member '{member.Name}'");
                        }
                        else if (additional.ValueKind == JsonValueKind.Object)
                        {
                            Check(additional, member.Value, $"{path}.{member.Name}", errors);
                        }
                    }
                }

                break;
            case JsonValueKind.Array:
                if (schema.TryGetProperty("items", out var items))
                {
                    var i = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        Check(items, item, $"{path}[{i++}]", errors);
                    }
                }

                if (schema.TryGetProperty("uniqueItems", out var unique) && unique.ValueKind == JsonValueKind.True)
                {
                    var all = value.EnumerateArray().ToList();
                    if (all.Where((a, index) => all.Skip(index + 1).Any(b => JsonElement.DeepEquals(a, b))).Any())
                    {
                        errors.Add($"{path}: items are not unique");
                    }
                }

                break;
            case JsonValueKind.Number:
                var number = value.GetDouble();
                if (schema.TryGetProperty("minimum", out var min) && number < min.GetDouble())
                {
                    errors.Add($"{path}: {number} < {min}");
                }

                if (schema.TryGetProperty("maximum", out var max) && number > max.GetDouble())
                {
                    errors.Add($"{path}: {number} > {max}");
                }

                break;
            case JsonValueKind.String:
                var text = value.GetString()!;
                if (schema.TryGetProperty("pattern", out var pattern) && !Regex.IsMatch(text, pattern.GetString()!))
                {
                    errors.Add($"{path}: '{text}' does not match {pattern}");
                }

                if (schema.TryGetProperty("format", out var format) && format.GetString() == "date-time" && !IsRfc3339DateTime(text))
                {
                    errors.Add($"{path}: '{text}' is not an RFC 3339 date-time with offset");
                }

                if (schema.TryGetProperty("minLength", out var minLength) && text.Length < minLength.GetInt32())
                {
                    errors.Add($"{path}: shorter than {minLength}");
                }

                if (schema.TryGetProperty("maxLength", out var maxLength) && text.Length > maxLength.GetInt32())
                {
                    errors.Add($"{path}: longer than {maxLength}");
                }

                break;
        }
    }

    /// <summary>RFC 3339 §5.6 <c>date-time</c>: <c>2026-03-01T10:00:00.000Z</c> or with <c>+01:00</c>; no local times.</summary>
    public static bool IsRfc3339DateTime(string text) =>
        Regex.IsMatch(text, @"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\z")
        && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _);

    private static bool Is(string type, JsonElement value) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}
