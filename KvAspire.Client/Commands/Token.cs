using System.Text;

namespace KvAspire.Client.Commands;

/// <summary>A word of a command line; <see cref="Quoted"/> when it was written in quotes and is kept exactly.</summary>
public readonly record struct Token(string Text, bool Quoted)
{
    /// <summary>
    /// Splits an interactive line into words: whitespace separates, "double" or 'single' quotes keep a
    /// word exactly (inside double quotes, \" and \\ escape). Null when a quote is left open.
    /// </summary>
    public static List<Token>? Split(string line, out string? error)
    {
        var tokens = new List<Token>();
        var i = 0;
        error = null;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }
            if (line[i] is '"' or '\'')
            {
                var quote = line[i++];
                var text = new StringBuilder();
                while (i < line.Length && line[i] != quote)
                {
                    if (quote == '"' && line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\')
                        i++;
                    text.Append(line[i++]);
                }
                if (i == line.Length)
                {
                    error = $"unclosed {quote} quote";
                    return null;
                }
                i++;
                tokens.Add(new Token(text.ToString(), Quoted: true));
                continue;
            }
            var start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i]) && line[i] is not ('"' or '\''))
                i++;
            tokens.Add(new Token(line[start..i], Quoted: false));
        }
        return tokens;
    }
}
