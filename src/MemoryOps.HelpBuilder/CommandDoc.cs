using System.Collections.Generic;

namespace MemoryOps.HelpBuilder
{
    /// <summary>One cmdlet's help page as PlatyPS's markdown schema describes it.</summary>
    public sealed class CommandDoc
    {
        public string Name { get; set; } = "";
        public string Synopsis { get; set; } = "";
        public List<string> Description { get; } = new List<string>();
        public List<SyntaxDoc> Syntax { get; } = new List<SyntaxDoc>();
        public List<ExampleDoc> Examples { get; } = new List<ExampleDoc>();
        public List<ParameterDoc> Parameters { get; } = new List<ParameterDoc>();
        public List<TypeDoc> Inputs { get; } = new List<TypeDoc>();
        public List<TypeDoc> Outputs { get; } = new List<TypeDoc>();
        public List<string> Notes { get; } = new List<string>();
        public List<string> Links { get; } = new List<string>();
    }

    public sealed class SyntaxDoc
    {
        public string SetName { get; set; } = "";
        public bool IsDefault { get; set; }
        public string Line { get; set; } = "";
    }

    public sealed class ExampleDoc
    {
        public string Title { get; set; } = "";
        public List<string> Code { get; } = new List<string>();
        public List<string> Remarks { get; } = new List<string>();
    }

    public sealed class ParameterDoc
    {
        public string Name { get; set; } = "";
        public List<string> Description { get; } = new List<string>();
        /// <summary>One yaml block per parameter-set variant (PlatyPS writes several when Required or Position differ).</summary>
        public List<Dictionary<string, string>> Metadata { get; } = new List<Dictionary<string, string>>();
    }

    public sealed class TypeDoc
    {
        public string TypeName { get; set; } = "";
        public List<string> Description { get; } = new List<string>();
    }
}
