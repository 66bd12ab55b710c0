using System.Text.Json;
using System.Text.Json.Serialization;
using XrfEdge.Synthesis.Profiles;

namespace XrfEdge.Synthesis;

/// <summary>The shipped generator profiles (embedded JSON) and the parser for profile files.</summary>
public static class GeneratorProfiles
{
    /// <summary>The training default: wide domain randomisation over every other profile.</summary>
    public const string DefaultName = "randomized";

    /// <summary>Names of the shipped profiles.</summary>
    public static readonly IReadOnlyList<string> Names = ["handheld-sdd", "handheld-pin", "benchtop", "macro-xrf", "randomized"];

    /// <summary>
    /// Loads a shipped profile by name, or a profile JSON file when <paramref name="nameOrPath"/> ends in ".json".
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, unreadable file, or invalid profile; the message says which and why.</exception>
    public static GeneratorProfile Load(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            string text;
            try
            {
                text = File.ReadAllText(nameOrPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // UnauthorizedAccessException is also what reading a directory named *.json throws.
                throw new ArgumentException($"profile file {nameOrPath} cannot be read: {ex.Message}", nameof(nameOrPath), ex);
            }

            return Parse(text, nameOrPath);
        }

        if (!Names.Contains(nameOrPath))
        {
            throw new ArgumentException($"unknown generator profile '{nameOrPath}'; known: {string.Join(", ", Names)} (or a path to a .json profile)", nameof(nameOrPath));
        }

        var resource = $"XrfEdge.Synthesis.Profiles.{nameOrPath}.json";
        using var stream = typeof(GeneratorProfiles).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded profile {resource} is missing from the build");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), resource);
    }

    /// <summary>Parses and validates a profile from JSON text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="ArgumentException">Malformed JSON or an invalid profile.</exception>
    public static GeneratorProfile Parse(string json, string source)
    {
        GeneratorProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize(json, ProfileJsonContext.Default.GeneratorProfile);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"profile {source} is not valid JSON for a generator profile: {ex.Message}", nameof(json), ex);
        }

        if (profile is null)
        {
            throw new ArgumentException($"profile {source} is empty", nameof(json));
        }

        var problems = profile.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException($"profile {source} is invalid: {string.Join("; ", problems)}", nameof(json));
        }

        return profile;
    }

    /// <summary>Serialises a profile to indented snake_case JSON (the file format <see cref="Parse"/> reads).</summary>
    public static string ToJson(GeneratorProfile profile) => JsonSerializer.Serialize(profile, ProfileJsonContext.Default.GeneratorProfile);
}

/// <summary>
/// Source-generated JSON metadata for profiles (reflection-free, trimming- and AOT-safe). Unknown and repeated keys are
/// errors: a repeated key silently took the later value, whatever a reader of the file saw first.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(GeneratorProfile))]
internal sealed partial class ProfileJsonContext : JsonSerializerContext;
