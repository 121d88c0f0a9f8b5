using MemoryOps.Engine.Counters;
using Xunit;

namespace MemoryOps.Engine.Tests
{
    public class KnownCountersTests
    {
        [Theory]
        [InlineData("gc-heap-sizee", "gc-heap-size")]
        [InlineData("GC-HEAP-SIZ", "gc-heap-size")]
        [InlineData("alloc-rat", "alloc-rate")]
        [InlineData("dotnet.gc.colections", "dotnet.gc.collections")]
        public void Names_the_counter_a_misspelling_meant(string typed, string meant) =>
            Assert.Equal(meant, KnownCounters.MisspellingOf(typed));

        [Theory]
        [InlineData("gc-heap-size")]         // known
        [InlineData("Gc-Heap-Size")]         // known, any case
        [InlineData("gc-heap*")]             // a pattern
        [InlineData("requests-per-second")]  // far from every known name: a counter of its own, waited for
        [InlineData("gen-3-size")]           // one edit from gen-0/1/2-size alike: no single guess
        public void Says_nothing_about_known_names_patterns_and_names_that_are_not_near_one(string typed) =>
            Assert.Null(KnownCounters.MisspellingOf(typed));
    }
}
