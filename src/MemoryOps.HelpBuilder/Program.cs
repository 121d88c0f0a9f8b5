using System;
using System.IO;
using System.Linq;
using System.Text;

namespace MemoryOps.HelpBuilder
{
    /// <summary>
    /// Usage: MemoryOps.HelpBuilder &lt;docs/en-US&gt; &lt;output en-US folder&gt; &lt;MAML file name&gt;
    /// Every Verb-Noun.md page becomes a command in the MAML file; every about_*.help.md an about_*.help.txt.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length != 3)
            {
                Console.Error.WriteLine("usage: MemoryOps.HelpBuilder <docs folder> <output folder> <MAML file name>");
                return 2;
            }
            try
            {
                Directory.CreateDirectory(args[1]);
                var pages = Directory.GetFiles(args[0], "*.md").Where(f => !Path.GetFileName(f).StartsWith("about_", StringComparison.OrdinalIgnoreCase)).OrderBy(f => f, StringComparer.Ordinal).ToList();
                var commands = pages.Select(p => MarkdownHelpReader.Read(File.ReadAllText(p), p)).ToList();
                MamlWriter.Write(commands).Save(Path.Combine(args[1], args[2]));
                Console.WriteLine($"{commands.Count} commands -> {Path.Combine(args[1], args[2])}");
                foreach (var about in Directory.GetFiles(args[0], "about_*.help.md"))
                {
                    string target = Path.Combine(args[1], Path.GetFileName(about).Replace(".help.md", ".help.txt"));
                    File.WriteAllText(target, AboutWriter.Write(File.ReadAllText(about)), new UTF8Encoding(false));
                    Console.WriteLine($"about topic -> {target}");
                }
                return 0;
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
        }
    }
}
