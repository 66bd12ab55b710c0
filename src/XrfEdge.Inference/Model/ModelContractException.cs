namespace XrfEdge.Inference.Model;

/// <summary>A model file or card that the encoder refuses: the message names the file and what is wrong with it.</summary>
public sealed class ModelContractException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelContractException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ModelContractException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public ModelContractException()
        : base("the model does not meet the encoder's contract")
    {
    }
}
